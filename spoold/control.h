/*
 * The control socket spoolctl talks to: HTTP on a unix socket of mode
 * 0600, so only its owner may administer the spool.
 */
#ifndef SPOOLD_CONTROL_H
#define SPOOLD_CONTROL_H

#include <microhttpd.h>
#include <stddef.h>

enum MHD_Result	control_handler(void *, struct MHD_Connection *,
		    const char *, const char *, const char *, const char *,
		    size_t *, void **);

#endif
