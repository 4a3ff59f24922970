// The run-time settings of llm::transport::https, each with the default a service should start
// from.
#pragma once

#include <llm/http/response_parser.hpp>
#include <llm/transport/proxy.hpp>

#include <chrono>  // timeouts
#include <cstddef> // std::size_t
#include <string>  // CA paths

namespace llm::transport {

struct https_options {
    // Each deadline fails the request with errc::timeout and a message naming it.
    std::chrono::milliseconds connect_timeout{10'000};     // DNS + TCP connect
    std::chrono::milliseconds tls_timeout{10'000};         // TLS handshake
    std::chrono::milliseconds first_byte_timeout{120'000}; // request sent → first response byte (models think)
    std::chrono::milliseconds idle_timeout{60'000};        // longest silence between body bytes (stream stall)
    std::chrono::milliseconds total_timeout{600'000};      // the whole exchange

    // Connections per scheme/host/port, in use and idle together; more requests wait their turn.
    std::size_t max_connections_per_host = 32;
    // An idle pooled connection older than this is closed rather than reused.
    std::chrono::milliseconds idle_expiry{30'000};
    // A pooled connection idle longer than this is checked before reuse (one non-blocking peek
    // sees whether the server closed it). Servers drop idle connections after seconds (2 s to
    // 75 s for common ones), so one used moments ago is sent on directly, sparing a system call;
    // should it have been closed anyway, the request goes again on a fresh connection.
    std::chrono::milliseconds check_idle_after{1'000};

    // TLS: peers are verified against the system's CA store unless a CA file or directory is
    // given. Turning verification off is for tests against self-made certificates only.
    bool verify_peer = true;
    std::string ca_file; // PEM bundle, used instead of the system store
    std::string ca_dir;  // OpenSSL hashed directory, used instead of the system store

    http::response_parser::limits limits;

    // Set it when only one thread runs the executor the transport was given (or that executor
    // is a strand): exchanges then run on it directly instead of each on a strand of its own,
    // which saves a strand's locking on every step. Wrong when several threads run it.
    bool single_threaded = false;

    // Proxies, read from HTTPS_PROXY / HTTP_PROXY / NO_PROXY when the options are made.
    proxy_settings proxy = proxy_settings::from_environment();
};

} // namespace llm::transport
