// A socket.io client of the service's live stream, connected (or the connect error thrown).
import { io as connect, type Socket } from 'socket.io-client';

export async function connectStream(url: string, token: string, opened: Socket[]): Promise<Socket> {
  const s = connect(url, { auth: { token }, transports: ['websocket'], reconnection: false });
  opened.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', reject);
  });
  return s;
}
