// A netlink socket pair for one protocol (hastor uses NETLINK_GENERIC): a
// request socket served by its own thread (send, receive datagrams with a
// timeout) and, once a multicast group is joined, an event socket whose thread
// hands every datagram to JS through a ThreadSafeFunction. Bytes only: message
// framing, sequence numbers and dump completion are decided in TypeScript.
#pragma once

#include <napi.h>

namespace hastor {

void InitNetlinkSocket(Napi::Env env, Napi::Object exports);

}  // namespace hastor
