#ifndef BIOMEBUS_CLIBEVENT_H
#define BIOMEBUS_CLIBEVENT_H
/* <sys/types.h> and <sys/select.h> must come first: libevent's event-config.h defines
   _GNU_SOURCE, and without these the module's fd_set clashes with Dispatch's in debug builds. */
#include <sys/types.h>
#include <sys/select.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/dns.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>
#endif
