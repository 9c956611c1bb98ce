// sdk_entry.js: what the Element page takes from matrix-js-sdk (bundled by
// build.js into one browser script that sets window.MxSdk). Only the client
// and the 1:1 call code (MSC2746 m.call.* events); the Rust crypto is never
// loaded (the test rooms are unencrypted), build.js replaces it by a stub.
import { createClient, ClientEvent, RoomEvent, EventType } from 'matrix-js-sdk';
import { CallEvent, CallState, CallErrorCode, CallDirection, CallParty, createNewMatrixCall }
  from 'matrix-js-sdk/lib/webrtc/call.js';
import { CallEventHandlerEvent } from 'matrix-js-sdk/lib/webrtc/callEventHandler.js';
import { CallFeedEvent } from 'matrix-js-sdk/lib/webrtc/callFeed.js';
import { logger } from 'matrix-js-sdk/lib/logger.js';

window.MxSdk = {
  createClient, ClientEvent, RoomEvent, EventType,
  CallEvent, CallState, CallErrorCode, CallDirection, CallParty, createNewMatrixCall,
  CallEventHandlerEvent, CallFeedEvent, logger,
};
