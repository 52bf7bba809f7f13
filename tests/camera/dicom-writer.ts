// DICOM Part 10 files written byte by byte (explicit VR little endian), for
// the DICOM source tests and the fuzzer's small seed.

export type El = [group: number, element: number, vr: string, value: Buffer | string | number];

function element([g, e, vr, v]: El): Buffer {
  let val: Buffer;
  if (typeof v === 'number') {
    val = Buffer.alloc(2);
    val.writeUInt16LE(v);
  } else if (typeof v === 'string') {
    val = Buffer.from(v.length % 2 ? v + (vr === 'UI' ? '\0' : ' ') : v, 'latin1');
  } else val = v.length % 2 ? Buffer.concat([v, Buffer.alloc(1)]) : v;
  const long = ['OB', 'OW', 'UN', 'SQ', 'UT'].includes(vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(g, 0);
  head.writeUInt16LE(e, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(val.length, 8);
  else head.writeUInt16LE(val.length, 6);
  return Buffer.concat([head, val]);
}

export function dicomFile(elements: El[]): Buffer {
  const meta = Buffer.concat([
    element([0x0002, 0x0001, 'OB', Buffer.from([0, 1])]),
    element([0x0002, 0x0002, 'UI', '1.2.840.10008.5.1.4.1.1.3.1']),
    element([0x0002, 0x0003, 'UI', '1.2.3.4']),
    element([0x0002, 0x0010, 'UI', '1.2.840.10008.1.2.1']),
  ]);
  const gl = Buffer.alloc(4);
  gl.writeUInt32LE(meta.length);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), element([0x0002, 0x0000, 'UL', gl]), meta, ...elements.map(element)]);
}


/** An 8-bit MONOCHROME2 cine of `frames` frames of width x height, with its Frame Time Vector (ms). */
export function greyCine(o: { width: number; height: number; frames: number; pixels: Buffer; frameTimes: string }): Buffer {
  return dicomFile([
    [0x0018, 0x1065, 'DS', o.frameTimes],
    [0x0028, 0x0002, 'US', 1],
    [0x0028, 0x0004, 'CS', 'MONOCHROME2'],
    [0x0028, 0x0008, 'IS', String(o.frames)],
    [0x0028, 0x0010, 'US', o.height],
    [0x0028, 0x0011, 'US', o.width],
    [0x0028, 0x0100, 'US', 8],
    [0x0028, 0x0101, 'US', 8],
    [0x0028, 0x0103, 'US', 0],
    [0x7fe0, 0x0010, 'OB', o.pixels],
  ]);
}
