/*
 * An init spends its life in a few pages of code; the rest of pidvisor (the daemon, the client,
 * the image builder) is mapped but never run again. pages_drop() unmaps the read-only file pages
 * of every loaded object before the wait loop, so the kernel's fault-around does not keep them
 * in our RSS; what the loop touches comes back from the page cache on first use.
 */
#ifndef PIDVISOR_PAGES_H
#define PIDVISOR_PAGES_H

#include <link.h>
#include <stddef.h>
#include <stdint.h>

struct page_range {
	uintptr_t start, end; /* page-aligned, end exclusive */
};

/* The ranges of one object's program headers that are safe to drop: its read-only PT_LOAD
 * segments (text, rodata), less PT_GNU_RELRO, whose pages relocation has written. Returns how
 * many ranges it found; at most max are stored. */
size_t pages_droppable(const ElfW(Phdr) * ph, size_t phnum, uintptr_t bias, size_t page_size,
		       struct page_range *out, size_t max);

/* Drops those pages for every loaded object but the vDSO. Returns the bytes advised away. */
size_t pages_drop(void);

#endif
