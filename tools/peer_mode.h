/* peer_mode.h: `mxrtc peer` (tools/peer_mode.c). */
#ifndef MXRTC_TOOLS_PEER_MODE_H
#define MXRTC_TOOLS_PEER_MODE_H

/* Runs the peer mode with the arguments after "peer"; the exit status. */
int mxrtc_peer_mode(int argc, char **argv);

#endif
