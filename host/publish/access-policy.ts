// Who may subscribe to and publish what, checked where browsers come in (the
// monitor's bridge), as docs/mqtt.md says: a viewer (no sign-in) reads a
// device's status, frame, stats, cmd/reply and thumb topics and publishes
// nothing; a signed-in operator reads the same and publishes commands. The
// broker's own ACL stays the final word (the operator's identity reaches it);
// this keeps a viewer from even asking. The security work (issue 15) owns the
// broker policy module; this is the interface and the rule.
export type Role = 'viewer' | 'operator';

export interface AccessPolicy {
  maySubscribe(role: Role, filter: string): boolean;
  mayPublish(role: Role, topic: string): boolean;
}

const READABLE = new Set(['status', 'frame', 'stats', 'cmd/reply', 'thumb']);
const DEVICE = /^(\+|[A-Za-z0-9_-]{1,64})$/;

export const DEFAULT_POLICY: AccessPolicy = {
  maySubscribe(_role, filter) {
    const [root, device, ...rest] = filter.split('/');
    return root === 'aunet' && device !== undefined && DEVICE.test(device) && READABLE.has(rest.join('/'));
  },
  mayPublish(role, topic) {
    const [root, device, kind, ...rest] = topic.split('/');
    return role === 'operator' && root === 'aunet' && device !== undefined && device !== '+' && DEVICE.test(device) && kind === 'cmd' && rest.length === 0;
  },
};
