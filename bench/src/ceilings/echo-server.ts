/**
 * The transport ceiling's server, run as its own process like a node would be: a
 * bare uWebSockets.js WebSocket echo. It prints its port as one JSON line on stdout.
 * The native build must be loaded: the package's JS fallback cannot handshake.
 */
import uWS from 'uWebSockets.js';

if (!/native code/.test(String(uWS.App))) {
  console.error('uWebSockets.js native build not loaded; the echo server cannot run');
  process.exit(2);
}

const app = uWS.App().ws('/*', {
  compression: uWS.DISABLED,
  maxPayloadLength: 1024 * 1024,
  maxBackpressure: 64 * 1024 * 1024,
  idleTimeout: 0,
  message: (ws, message, isBinary) => {
    ws.send(message, isBinary);
  },
});

app.listen('127.0.0.1', 0, (listenSocket) => {
  if (listenSocket === false) {
    console.error('echo server could not listen');
    process.exit(2);
  }
  console.log(JSON.stringify({ port: uWS.us_socket_local_port(listenSocket) }));
});

process.on('SIGTERM', () => process.exit(0));
