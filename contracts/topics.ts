// Topic names of docs/mqtt.md, in one place. Pure (the monitor imports it too).

export const TOPIC_ROOT = 'aunet';
export const DEVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const DEFAULT_DEVICE = 'aunet-0';

export interface Topics {
  status: string;
  frame: string;
  stats: string;
  cmd: string;
  cmdReply: string;
  /** low-rate thumbnail for the fleet view (contracts/thumbnail.ts) */
  thumb: string;
}

export function topicsFor(device: string): Topics {
  if (!DEVICE_ID.test(device)) {
    throw new RangeError(`device id '${device}' must be 1 to 64 characters of A-Z a-z 0-9 _ -`);
  }
  const base = `${TOPIC_ROOT}/${device}`;
  return { status: `${base}/status`, frame: `${base}/frame`, stats: `${base}/stats`, cmd: `${base}/cmd`, cmdReply: `${base}/cmd/reply`, thumb: `${base}/thumb` };
}

/** Subscriptions of the fleet view: every device's status, stats and thumbnail. */
export const FLEET_TOPICS = { status: `${TOPIC_ROOT}/+/status`, stats: `${TOPIC_ROOT}/+/stats`, thumb: `${TOPIC_ROOT}/+/thumb` } as const;

/** The device and the topic's kind (`status`, `frame`, `cmd/reply`, ...) of a topic under `aunet/`, or null. */
export function parseTopic(topic: string): { device: string; kind: string } | null {
  const parts = topic.split('/');
  if (parts.length < 3 || parts[0] !== TOPIC_ROOT || !DEVICE_ID.test(parts[1])) return null;
  return { device: parts[1], kind: parts.slice(2).join('/') };
}

/** True for `aunet/<any device>/cmd`. */
export function isCmdTopic(topic: string): boolean {
  const parts = topic.split('/');
  return parts.length === 3 && parts[0] === TOPIC_ROOT && parts[2] === 'cmd';
}

/** True for any topic under `aunet/`. */
export function isAunetTopic(topic: string): boolean {
  return topic === TOPIC_ROOT || topic.startsWith(`${TOPIC_ROOT}/`);
}
