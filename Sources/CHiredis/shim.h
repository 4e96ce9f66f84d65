#ifndef DOCKET_CHIREDIS_SHIM_H
#define DOCKET_CHIREDIS_SHIM_H
#include <hiredis.h>
#endif
