#ifndef DOCKET_CLIBPQ_SHIM_H
#define DOCKET_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
