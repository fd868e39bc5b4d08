/* notify.c - tells systemd a daemon is ready, reloading or stopping, through
 * libsystemd's sd_notify (which does nothing without NOTIFY_SOCKET). */
#include <stdio.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "ferry/log.h"
#include "ferry/notify.h"

/* A failed notification is worth a debug line, never a stop. */
static void
said(int r, const char *what)
{
	if (r < 0)
		ferry_debug("sd_notify %s: error %d", what, -r);
}

void
ferry_notify_ready(const char *status)
{
	if (status != NULL)
		said(sd_notifyf(0, "READY=1\nSTATUS=%s", status), "READY");
	else
		said(sd_notify(0, "READY=1"), "READY");
}

void
ferry_notify_reloading(void)
{
	struct timespec ts;
	unsigned long long us;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	us = (unsigned long long)ts.tv_sec * 1000000ull +
	     (unsigned long long)ts.tv_nsec / 1000ull;
	said(
	    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", us), "RELOADING");
}

void
ferry_notify_stopping(void)
{
	said(sd_notify(0, "STOPPING=1"), "STOPPING");
}
