// Child for the overflow test, run inside fresh user+network namespaces
// (unshare -rn) so the events it causes touch nothing on the host.
// Subscribes to IPv4 address events (NETLINK_ROUTE, RTNLGRP_IPV4_IFADDR = 5)
// with a tiny receive buffer and room for one unread datagram, then blocks
// the JS thread while one batched request adds 300 addresses to lo: the event
// thread stops reading, the kernel drops, and the next read reports ENOBUFS.
// argv: <compiled package root>
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [root] = process.argv.slice(2);
const load = (file) => import(pathToFileURL(join(root, file)).href);
const { GenericNetlinkSocket } = await load('src/sys/netlink-socket.js');
const { loadNative } = await load('src/native.js');
const { encodeNetlinkMessage, encodeAttributes, NLM_F_REQUEST, NLM_F_CREATE, NLM_F_EXCL } = await load(
  'src/sys/netlink-codec.js',
);

const NETLINK_ROUTE = 0;
const RTM_NEWADDR = 20;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const COUNT = 300;

const socket = GenericNetlinkSocket.open({ protocol: NETLINK_ROUTE, eventBufferBytes: 4096, maxPendingEvents: 1 });
const counts = { datagram: 0, overflow: 0, error: 0 };
socket.onEvent((event) => {
  counts[event.kind] += 1;
});
socket.joinGroup(5);

const messages = [];
for (let i = 0; i < COUNT; i++) {
  const address = Buffer.from([10, 77, i >> 8, i & 255]);
  // struct ifaddrmsg: family AF_INET, prefix /32, flags, scope, ifindex 1 (lo)
  const ifaddr = Buffer.from([2, 32, 0, 0, 1, 0, 0, 0]);
  const attrs = encodeAttributes([
    { type: IFA_LOCAL, value: address },
    { type: IFA_ADDRESS, value: address },
  ]);
  messages.push(
    encodeNetlinkMessage({
      type: RTM_NEWADDR,
      flags: NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL, // no ACK: success is silent
      seq: i + 1,
      portId: 0,
      payload: Buffer.concat([ifaddr, attrs]),
    }),
  );
}
const addon = loadNative();
const sender = new addon.NetlinkSocket(NETLINK_ROUTE, () => {}, 0, 1);
// One datagram, 300 requests: the kernel runs them all inside one sendmsg on
// the sender's thread while this thread sleeps and reads nothing.
const replies = sender.request(Buffer.concat(messages), 0);
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
const errors = (await replies).length; // any reply here would be an NLMSG_ERROR
sender.close();
setTimeout(() => {
  process.stdout.write(`result ${JSON.stringify({ ...counts, errors })}\n`);
  socket.close();
}, 300);
