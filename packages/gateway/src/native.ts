/**
 * uWebSockets.js, checked to be the native build. The npm package falls back to
 * a JavaScript implementation when its binary does not load, and that fallback
 * fails the WebSocket handshake: refuse to run on it rather than half-work.
 */
import uWS from 'uWebSockets.js';

export function loadNativeUws(): typeof uWS {
  if (!/native code/.test(String(uWS.App))) {
    throw new Error('uWebSockets.js did not load its native binary (only Node 16/18/20 on linux-x64 are supported); refusing to run on its JavaScript fallback');
  }
  return uWS;
}
