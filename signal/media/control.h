/*
 * control.h - mediad's control socket: a unix stream socket carrying one JSON
 * object per line each way (docs/mediad.md lists the commands). signald keeps
 * a connection open and sends echo.offer, echo.candidate, stats and close.
 */
#ifndef MEDIA_CONTROL_H
#define MEDIA_CONTROL_H

#include <jansson.h>

#include "session.h"

struct media_control;

/* Listen on path (an old socket file there is replaced). 0 or a negative
 * errno with the reason in err. */
int media_control_open(struct media_control **out, struct media_server *srv, const char *path,
                       char *err, size_t err_cap);
void media_control_close(struct media_control *c);

/* An unsolicited event ({"event": "room.speaker", ...}) for every control
 * connection. Safe from any worker thread: the line is written from the main
 * loop. Takes event; dropped when the control socket is closed. */
void media_control_notify(struct media_server *srv, json_t *event);

#endif
