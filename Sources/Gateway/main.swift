import NIOCore
import NIOPosix
import Runtime

// Run Swift concurrency on NIO's event loops, before any task exists: request handling then continues on the thread
// that read the request instead of hopping to the cooperative pool and back (a large share of the per-request CPU on
// two cores). Nothing in the gateway blocks a concurrency thread: Redis calls wait on their own threads.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

await DocketMain.run(GatewayCommand.self)
