/*
 * speak.h - media-load --speak: one audio speaker whose SDP goes through
 * stdin and stdout (speak.c).
 */
#ifndef ML_SPEAK_H
#define ML_SPEAK_H

/* Speak at level (-dBov, 0-127) for seconds; the exit status: 0 or 1. */
int ml_speak(unsigned level, unsigned seconds);

#endif
