// The umbrella header: everything a service needs to build an llm::client.
// Included separately, because they are heavy or need libraries of their own:
//   <llm/transport/https.hpp>   the real transport: Asio's SSL layer, OpenSSL and the HTTP and
//                               SSE codecs, about 5 s more per translation unit with g++
//                               (docs/performance.md); include it where the client is made
//   optional backends (SQLite, Redis, ...)
#pragma once

#include <llm/version.hpp>

#include <llm/core/chunk.hpp>
#include <llm/core/clock.hpp>
#include <llm/core/error.hpp>
#include <llm/core/finish_reason.hpp>
#include <llm/core/identity.hpp>
#include <llm/core/message.hpp>
#include <llm/core/request.hpp>
#include <llm/core/response.hpp>
#include <llm/core/result.hpp>
#include <llm/core/usage.hpp>
#include <llm/core/validate.hpp>

#include <llm/http/message.hpp>
#include <llm/policy/budget.hpp>
#include <llm/policy/cache.hpp>
#include <llm/policy/fallback.hpp>
#include <llm/policy/observe.hpp>
#include <llm/policy/rate_limit.hpp>
#include <llm/policy/retry.hpp>
#include <llm/provider/provider.hpp>
#include <llm/store/store.hpp>
#include <llm/transport/transport.hpp>

#include <llm/client.hpp>
#include <llm/stream.hpp>
#include <llm/timer.hpp>
