// expect: a constructor argument is not one of this client's policy types
#include <llm/client.hpp>

#include <support/scripted_transport.hpp>

#include <asio/io_context.hpp>

int main()
{
    asio::io_context io;
    llm::client<llm::test::scripted> ai{llm::test::scripted{io.get_executor()}, 42};
    return 0;
}
