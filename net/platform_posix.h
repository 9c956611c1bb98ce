/*
 * platform_posix.h: POSIX-only helpers shared by the files of net/ that use
 * BSD sockets directly (platform_posix.c, turn_socket.c). Not for the core,
 * and not part of net/platform.h, which stays free of socket types so a
 * Winsock platform file can implement it.
 */
#ifndef MXRTC_NET_PLATFORM_POSIX_H
#define MXRTC_NET_PLATFORM_POSIX_H

#include <sys/socket.h>

#include "mxrtc.h"

/* Fills *ss from a; returns the sockaddr length, 0 for an unset family. */
socklen_t mxrtc_net_to_sockaddr(const mxrtc_addr *a, struct sockaddr_storage *ss);

#endif
