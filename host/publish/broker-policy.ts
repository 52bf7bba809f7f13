// Who may do what on the box's MQTT topics (docs/mqtt.md, docs/security.md):
// one set of pure decisions that the embedded broker calls from its hooks and a
// bridge (the fleet monitor's WebSocket endpoint in front of a TCP broker) can
// call per packet. Nothing here knows aedes.
//
// - anonymous clients (viewers) may subscribe only to the device topics meant
//   for viewers, and publish nothing;
// - operators may subscribe under aunet/ and publish commands, never retained;
// - the live service publishes under aunet/ and may read $SYS;
// - a client id held by a signed-in client cannot be taken by another identity;
// - packets are bounded per role (the gate of packet-gate.ts asks packetLimit).
import { DEVICE_ID, TOPIC_ROOT, isAunetTopic, isCmdTopic } from '../../contracts/topics.js';
import { MAX_CMD_BYTES } from '../../contracts/command.js';

export type Role = 'service' | 'operator' | 'anonymous';

export interface Identity {
  role: Role;
  /** null for anonymous clients */
  username: string | null;
}

export const ANONYMOUS: Identity = { role: 'anonymous', username: null };

/** Topics under aunet/<device>/ that anyone who can open the page may read (thumb: the fleet view's low-rate thumbnail). */
export const VIEWER_TOPICS: readonly string[] = ['status', 'frame', 'stats', 'cmd/reply', 'thumb'];

/** Largest packet (remaining length) of a client that has not signed in, and of an operator: a CONNECT, a SUBSCRIBE, a command. */
export const SMALL_PACKET_BYTES = 2 * MAX_CMD_BYTES;

export type Decision = { ok: true } | { ok: false; reason: string };

const allow: Decision = { ok: true };
const deny = (reason: string): Decision => ({ ok: false, reason });

/** A viewer filter: aunet/<device or +>/<viewer topic>, no '#'. */
function isViewerFilter(filter: string): boolean {
  const prefix = `${TOPIC_ROOT}/`;
  if (!filter.startsWith(prefix)) return false;
  const rest = filter.slice(prefix.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return false;
  const device = rest.slice(0, slash);
  return (device === '+' || DEVICE_ID.test(device)) && VIEWER_TOPICS.includes(rest.slice(slash + 1));
}

/** May `who` subscribe to `filter`? */
export function maySubscribe(who: Identity, filter: string): Decision {
  if (who.role === 'service') return allow;
  if (filter.startsWith('$') || filter === '#' || filter.startsWith('+')) return deny('$SYS and root wildcards are for the live service only');
  if (who.role === 'operator') return isAunetTopic(filter) ? allow : deny('operators read only aunet/ topics');
  return isViewerFilter(filter) ? allow : deny(`anonymous clients read only aunet/<device>/{${VIEWER_TOPICS.join(',')}}`);
}

/** May `who` publish `bytes` of payload to `topic` with this retain flag? */
export function mayPublish(who: Identity, topic: string, retain: boolean, bytes: number): Decision {
  if (topic.startsWith('$')) return deny('$ topics belong to the broker');
  if (isCmdTopic(topic) && retain && bytes > 0) return deny('a retained command would be replayed at every start of the live service');
  if (who.role === 'service') return isAunetTopic(topic) ? allow : deny('the live service publishes only under aunet/');
  if (who.role === 'operator') return isCmdTopic(topic) ? allow : deny('operators publish only aunet/<device>/cmd');
  return deny('anonymous clients may not publish');
}

/**
 * May a client of identity `newcomer` connect with a client id that `holder`
 * (the identity of the client connected with it now, if any) holds? MQTT lets
 * the newcomer take the id over and disconnects the holder; for a signed-in
 * holder only the same identity may (its own reconnect).
 */
export function mayTakeClientId(holder: Identity | undefined, newcomer: Identity): Decision {
  if (!holder || holder.role === 'anonymous') return allow;
  return holder.role === newcomer.role && holder.username === newcomer.username ? allow : deny(`client id in use by a signed-in ${holder.role}`);
}

/** Largest packet (MQTT remaining length) accepted from a client; `serviceBytes` = the live service's largest frame message plus its topic. */
export function packetLimit(role: Role | null, serviceBytes: number): number {
  return role === 'service' ? Math.max(serviceBytes, SMALL_PACKET_BYTES) : SMALL_PACKET_BYTES;
}
