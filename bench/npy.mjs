// npy.mjs - minimal NumPy .npy reader (versions 1-3, C order,
// little-endian) for the benchmark: enough for the float32 tensors that
// models/export.py saves and `evo run` writes.
import { readFileSync, writeFileSync } from 'node:fs';

const DTYPES = {
  '<f4': Float32Array, '<f8': Float64Array, '<i4': Int32Array, '<i8': BigInt64Array,
  '|u1': Uint8Array, '|i1': Int8Array, '<u2': Uint16Array, '<i2': Int16Array, '|b1': Uint8Array,
};

export function readNpy(path) {
  const buf = readFileSync(path);
  if (buf.length < 10 || buf[0] !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY')
    throw new Error(`${path}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new Error(`${path}: bad .npy header ${header}`);
  if (fortran) throw new Error(`${path}: Fortran-order arrays are not supported`);
  const Ctor = DTYPES[descr];
  if (!Ctor) throw new Error(`${path}: unsupported dtype ${descr}`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const off = start + hlen;
  const bytes = count * Ctor.BYTES_PER_ELEMENT;
  if (buf.length < off + bytes) throw new Error(`${path}: truncated (${buf.length - off} of ${bytes} data bytes)`);
  // Copy into an aligned buffer of its own.
  const data = new Ctor(count);
  new Uint8Array(data.buffer).set(buf.subarray(off, off + bytes));
  return { descr, shape, data };
}

// Writes a float32 array of the given shape as a version-1 .npy file.
export function writeNpyF32(path, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head[0] = 0x93;
  head.write('NUMPY', 1, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}
