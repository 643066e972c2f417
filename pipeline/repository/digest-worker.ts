// Worker thread: the Skein-1024 image digest of the bytes the main thread uploads,
// so hashing runs beside the upload instead of between its chunks. Chunk buffers
// are handed back after hashing (a fixed pool: no garbage piling up in this isolate).
import { parentPort } from 'node:worker_threads';
import { ImageDigest } from '../artifacts/image-digest.js';

type Message = { type: 'chunk'; data: Uint8Array; length: number } | { type: 'finish'; id: number; meta: Uint8Array };

let digest = new ImageDigest();
parentPort!.on('message', (message: Message) => {
  if (message.type === 'chunk') {
    digest.addXz(message.data.subarray(0, message.length));
    parentPort!.postMessage({ type: 'ack', data: message.data }, [message.data.buffer as ArrayBuffer]);
  } else {
    parentPort!.postMessage({ type: 'digest', id: message.id, hex: digest.finish(message.meta), bytes: digest.xzBytes });
    digest = new ImageDigest();
  }
});
