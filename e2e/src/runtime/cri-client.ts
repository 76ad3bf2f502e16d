// A minimal client of the Kubernetes Container Runtime Interface (CRI, k8s.io/cri-api pkg/apis/runtime/v1
// api.proto): gRPC over HTTP/2 on the runtime's unix socket, messages encoded by hand. It is a real client of the
// real containerd's CRI plugin, doing what the kubelet does to run a pod (RunPodSandbox, CreateContainer,
// StartContainer, ...), for tests on machines that have no crictl (Debian has no cri-tools). Only the fields the
// tests set are encoded; field numbers are api.proto's.
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect } from 'node:net';

/** A protobuf message as a list of encoded fields. */
type Field = Buffer;

const varint = (value: number): Buffer => {
  const bytes: number[] = [];
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
};
const key = (field: number, wire: number) => varint((field << 3) | wire);
/** A length-delimited field: a string, bytes or an embedded message. */
const bytesField = (field: number, value: Buffer): Field => Buffer.concat([key(field, 2), varint(value.length), value]);
export const str = (field: number, value: string): Field => bytesField(field, Buffer.from(value, 'utf8'));
export const msg = (field: number, ...fields: Field[]): Field => bytesField(field, Buffer.concat(fields));
export const uint = (field: number, value: number): Field => Buffer.concat([key(field, 0), varint(value)]);
/** A map<string,string> entry (a message with key 1 and value 2). */
export const entry = (field: number, k: string, v: string): Field => msg(field, str(1, k), str(2, v));

/** The string fields of a message by number (enough to read ids out of CRI responses). */
export function readStrings(buf: Buffer): Map<number, string[]> {
  const out = new Map<number, string[]>();
  let i = 0;
  const readVarint = () => {
    let result = 0;
    let shift = 1;
    for (;;) {
      const b = buf[i++]!;
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 128;
    }
  };
  while (i < buf.length) {
    const tag = readVarint();
    const wire = tag & 7;
    const field = tag >>> 3;
    if (wire === 0) readVarint();
    else if (wire === 2) {
      const len = readVarint();
      out.set(field, [...(out.get(field) ?? []), buf.subarray(i, i + len).toString('utf8')]);
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`protobuf wire type ${wire} not supported`);
  }
  return out;
}

/** A CRI client on a runtime socket. */
export class CriClient {
  private constructor(private readonly session: ClientHttp2Session) {}

  static connect(socket: string): CriClient {
    const session = connect('http://localhost', { createConnection: () => netConnect(socket) });
    session.on('error', () => undefined); // surfaced by the call that fails
    return new CriClient(session);
  }

  /** One unary call of `service`/`method` with an encoded request; resolves to the encoded response. */
  call(service: 'RuntimeService' | 'ImageService', method: string, ...fields: Field[]): Promise<Buffer> {
    const body = Buffer.concat(fields);
    const frame = Buffer.concat([
      Buffer.from([0]),
      Buffer.from([(body.length >>> 24) & 255, (body.length >>> 16) & 255, (body.length >>> 8) & 255, body.length & 255]),
      body,
    ]);
    return new Promise((resolve, reject) => {
      const req = this.session.request({
        [constants.HTTP2_HEADER_METHOD]: 'POST',
        [constants.HTTP2_HEADER_PATH]: `/runtime.v1.${service}/${method}`,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let message = '';
      const headers = (h: Record<string, unknown>) => {
        if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
        if (h['grpc-message'] !== undefined) message = decodeURIComponent(String(h['grpc-message']));
      };
      req.on('response', headers);
      req.on('trailers', headers);
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('error', reject);
      req.on('end', () => {
        if (status !== '0') return reject(new Error(`CRI ${method}: grpc-status ${status ?? '(none)'}: ${message}`));
        const all = Buffer.concat(chunks);
        resolve(all.length >= 5 ? all.subarray(5, 5 + all.readUInt32BE(1)) : Buffer.alloc(0));
      });
      req.end(frame);
    });
  }

  close(): void {
    this.session.close();
  }
}
