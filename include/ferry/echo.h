/* echo.h - the TLS echo service: each line back, optionally upper-cased.
 * A diagnostic any TLS client (openssl s_client) can talk to. */
#ifndef FERRY_ECHO_H
#define FERRY_ECHO_H

#include <stdint.h>

#include "ferry/conn.h"

/* Echoes every byte back as it arrives until the peer closes; counts lines. */
int ferry_echo_serve(
    struct ferry_conn *c, int upper, uint64_t *lines) FERRY_MUST_CHECK;

#endif
