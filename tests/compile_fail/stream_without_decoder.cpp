// expect: streaming over HTTP needs a transport with open\(\)
#include <llm/client.hpp>

#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

struct http_only {
    using executor_type = asio::io_context::executor_type;
    executor_type get_executor() const;
    template <class Handler>
    void async_send(const llm::http::request&, Handler&&);
};

struct complete_only { // encodes and decodes, but has no stream decoder
    llm::result<llm::http::request> encode(const llm::request&) const;
    llm::result<llm::response> decode(const llm::http::response&) const;
};

int main()
{
    llm::client<http_only, complete_only>* ai = nullptr;
    auto s = ai->stream(llm::request{});
    (void)s.next(asio::use_awaitable);
}
