// Child for the "close stops the event thread" test: joins nlctrl's "notify"
// group, then per mode closes the socket, unrefs it, or leaves it open.
// A process whose event thread is gone exits by itself.
// argv: <compiled package root> <close|unref|open>
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, mode] = process.argv.slice(2);
const load = (file) => import(pathToFileURL(join(root, file)).href);
const { GenericNetlinkSocket } = await load('src/sys/netlink-socket.js');
const { resolveGenlFamily } = await load('src/sys/genl-family.js');

const socket = GenericNetlinkSocket.open();
const family = await resolveGenlFamily(socket, 'nlctrl');
const notify = family.multicastGroups.find((g) => g.name === 'notify');
const iterator = socket.events();
socket.joinGroup(notify.id);
process.stdout.write(`joined ${notify.id}\n`);
const pending = iterator.next().then((result) => {
  process.stdout.write(`iterator-done ${result.done}\n`);
});
if (mode === 'close') {
  setTimeout(() => {
    socket.close();
    socket.close(); // idempotent
    void pending;
  }, 50);
} else if (mode === 'unref') {
  socket.unref();
}
