#ifndef BIOMEBUS_CLIBPQ_H
#define BIOMEBUS_CLIBPQ_H
#include <libpq-fe.h>
#endif
