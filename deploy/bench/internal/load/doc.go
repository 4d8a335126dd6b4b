// Package load drives HTTP load at a server on loopback and reduces it to one
// Result: requests per second, latency percentiles and errors. Closed-loop
// load (a fixed number of connections, each sending its next request when the
// previous one returns) measures the maximum rate; it uses wrk when installed
// and vegeta otherwise. Open-loop load (vegeta at a fixed rate) measures
// latency, because a closed loop stops sending while the server stalls and so
// hides the stall from its own percentiles (coordinated omission). Token
// grants whose requests depend on the previous response (refresh_token) run
// in a small Go loop of their own.
package load
