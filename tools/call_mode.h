/* call_mode.h: `mxrtc call ROOM` and `mxrtc answer [ROOM]`, the mxrtc
 * command as a Matrix client (tools/call_mode.c, docs/call_tool.md). */
#ifndef MXRTC_TOOLS_CALL_MODE_H
#define MXRTC_TOOLS_CALL_MODE_H

/* Runs `mxrtc call` (placing = 1) or `mxrtc answer` (placing = 0) with the
 * arguments after the mode's name; the exit status (0 ended by a hangup or
 * reject or --duration, 1 failed, 2 usage error). */
int mxrtc_call_mode(int placing, int argc, char **argv);

/* The usage text of both modes, on stderr. */
void mxrtc_call_mode_usage(void);

#endif
