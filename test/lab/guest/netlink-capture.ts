/**
 * Guest side (recorder): raw bytes of the DRBD generic-netlink traffic, via
 * hastor's socket (the native addon) and codecs. Prints JSON: the resolved
 * family, the GET_STATUS dump request and every reply message re-encoded to
 * wire bytes (hex), and, with --events-ms, every multicast datagram of the
 * `events` group received in that window, verbatim (hex).
 * Usage: node netlink-capture.js [--events-ms 0] [--ready-file <path>]
 */
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DRBD_EVENTS_GROUP, DRBD_FAMILY_NAME } from '../../../src/drbd/genl/constants.js';
import { encodeDrbdRequestMessage, encodeGetStatusDump } from '../../../src/drbd/genl/request.js';
import { resolveGenlFamily } from '../../../src/sys/genl-family.js';
import { encodeNetlinkMessage, NLM_F_DUMP, NLM_F_REQUEST } from '../../../src/sys/netlink-codec.js';
import { GenericNetlinkSocket } from '../../../src/sys/netlink-socket.js';
import { option, parseArgs, toJson } from './cli-args.js';

const options = parseArgs(process.argv.slice(2));
const eventsMs = Number(option(options, 'events-ms', '0'));
const readyFile = options.get('ready-file')?.at(-1);

const socket = GenericNetlinkSocket.open();
const events: { t: number; hex: string }[] = [];
try {
  const family = await resolveGenlFamily(socket, DRBD_FAMILY_NAME);
  const group = family.multicastGroups.find((g) => g.name === DRBD_EVENTS_GROUP);
  const started = Date.now();
  if (eventsMs > 0 && group) {
    socket.onEvent((event) => {
      if (event.kind === 'datagram') events.push({ t: Date.now() - started, hex: event.datagram.toString('hex') });
    });
    socket.joinGroup(group.id);
  }
  const payload = encodeGetStatusDump();
  const replies = await socket.request(family.id, NLM_F_DUMP, payload);
  if (readyFile) writeFileSync(readyFile, String(Date.now()));
  if (eventsMs > 0) await sleep(eventsMs);
  process.stdout.write(
    `${toJson({
      family,
      getStatusDump: {
        // seq and port id are the socket's; shown as 0 here
        request: encodeDrbdRequestMessage(payload, { familyId: family.id, seq: 0, flags: NLM_F_REQUEST | NLM_F_DUMP }).toString('hex'),
        replies: replies.map((m) => encodeNetlinkMessage(m).toString('hex')),
      },
      events,
    })}\n`,
  );
} finally {
  socket.close();
}
