/* notify.h - a daemon's state for systemd (Type=notify): ready, reloading,
 * stopping. Nothing happens when NOTIFY_SOCKET is not set. */
#ifndef FERRY_NOTIFY_H
#define FERRY_NOTIFY_H

/* READY=1 with STATUS=status (one line; NULL for none). */
void ferry_notify_ready(const char *status);
/* RELOADING=1 and MONOTONIC_USEC=now: a SIGHUP is being handled. */
void ferry_notify_reloading(void);
/* STOPPING=1: shutting down. */
void ferry_notify_stopping(void);

#endif
