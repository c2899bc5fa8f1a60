/*
 * control.h - mediad's control socket: a unix stream socket carrying one JSON
 * object per line each way (docs/mediad.md lists the commands). signald keeps
 * a connection open and sends echo.offer, echo.candidate, stats and close.
 */
#ifndef MEDIA_CONTROL_H
#define MEDIA_CONTROL_H

#include "session.h"

struct media_control;

/* Listen on path (an old socket file there is replaced). 0 or a negative
 * errno with the reason in err. */
int media_control_open(struct media_control **out, struct media_server *srv, const char *path,
                       char *err, size_t err_cap);
void media_control_close(struct media_control *c);

#endif
