/* SHA-1, only for supervisord's "{SHA}<hex>" passwords (no crypto library needed for that). */
#ifndef PIDVISOR_SHA1_H
#define PIDVISOR_SHA1_H

#include <stddef.h>
#include <stdint.h>

void sha1(const void *data, size_t len, uint8_t out[20]);

#endif
