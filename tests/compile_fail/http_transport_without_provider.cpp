// expect: an HTTP transport needs a provider
#include <llm/client.hpp>

#include <asio/io_context.hpp>

struct http_only {
    using executor_type = asio::io_context::executor_type;
    executor_type get_executor() const;
    template <class Handler>
    void async_send(const llm::http::request&, Handler&&);
};

int main()
{
    return sizeof(llm::client<http_only>);
}
