#ifndef CLIBJWT_SHIM_H
#define CLIBJWT_SHIM_H
#include <jwt.h>
#include <stdlib.h>
#endif
