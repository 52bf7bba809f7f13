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
}

export function topicsFor(device: string): Topics {
  if (!DEVICE_ID.test(device)) {
    throw new RangeError(`device id '${device}' must be 1 to 64 characters of A-Z a-z 0-9 _ -`);
  }
  const base = `${TOPIC_ROOT}/${device}`;
  return { status: `${base}/status`, frame: `${base}/frame`, stats: `${base}/stats`, cmd: `${base}/cmd`, cmdReply: `${base}/cmd/reply` };
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
