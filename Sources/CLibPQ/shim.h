#ifndef DAYBOOK_CLIBPQ_SHIM_H
#define DAYBOOK_CLIBPQ_SHIM_H
// The only thing Daybook needs from C is libpq itself; pkg-config (libpq.pc from libpq-dev)
// supplies the include path.
#include <libpq-fe.h>
#endif
