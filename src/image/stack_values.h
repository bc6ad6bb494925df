/*
 * What a stack file's values may be (stack_values.c). Pure string checks: bad_* say why a value
 * is refused (NULL: fine), valid_* only whether it is fine, with the *_WHAT text for a message.
 */
#ifndef PIDVISOR_IMAGE_STACK_VALUES_H
#define PIDVISOR_IMAGE_STACK_VALUES_H

#include <stdbool.h>
#include <stddef.h>

/* Why s (len bytes) cannot be written into one line of a Dockerfile, an INI file or a message. */
const char *bad_text(const char *s, size_t len);
/* Whether s is not empty, starts with a letter or digit, and has only those and extra. */
bool only_chars(const char *s, const char *extra);
/* An image of the stack: [HOST[:PORT]/]REPOSITORY[:TAG]. */
const char *bad_image_name(const char *s);
/* An existing image: NAME[:TAG][@ALGORITHM:HEX]. */
const char *bad_reference(const char *s);

#define ENV_NAME_WHAT "a variable name (letters, digits and _, not starting with a digit)"
bool valid_env_name(const char *s);
bool valid_label_name(const char *s);
/* 1-65535, optionally /tcp, /udp or /sctp. */
bool valid_port(const char *s);
/* USER[:GROUP], each a name or a number. */
bool valid_user(const char *s);

/* A program's or group's name goes into an INI section header and a group's `programs=` list. */
#define ENTRY_NAME_WHAT "a letter or digit, then letters, digits and . _ - @ +"
bool valid_entry_name(const char *s);

/* deploy: ports, volumes, cpu and memory, capabilities. */
bool valid_published_port(const char *s);
bool valid_mount(const char *s);
bool valid_quantity(const char *s);
bool valid_capability(const char *s);

#endif
