#ifndef BIOMEBUS_CHIREDIS_H
#define BIOMEBUS_CHIREDIS_H
#include <sys/types.h>
#include <sys/select.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
/* The libevent adapter is static inline code; it imports into Swift as is. */
#include <hiredis/adapters/libevent.h>
#endif
