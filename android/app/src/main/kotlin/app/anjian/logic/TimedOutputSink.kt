package app.anjian.logic

import app.anjian.ffi.AnjianException
import app.anjian.ffi.PrinterSink
import java.io.IOException
import java.io.OutputStream
import java.util.concurrent.Callable
import java.util.concurrent.ExecutionException
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.RejectedExecutionException
import java.util.concurrent.TimeUnit
import java.util.concurrent.TimeoutException

/**
 * The printer end of a print job: core cuts the job into paced chunks and hands each to
 * [writeChunk]; this writes it to the stream (a Bluetooth socket's, on a tablet).
 *
 * A Bluetooth socket's write has no timeout of its own: when a printer runs out of paper or
 * its buffer stays full, the write blocks for good and the inspector would see a frozen screen.
 * So each write runs on a worker thread and is waited for at most [timeoutMillis]; past that
 * the job fails with [AnjianException.Printer] (core adds how many bytes got through) and
 * [onTimeout] runs, by default closing the stream, which is what unblocks a socket write.
 * After a failure the sink stays failed: the stuck write may still hold the stream.
 *
 * The caller owns the connection; [close] ends the worker and closes the stream.
 */
class TimedOutputSink(
    private val out: OutputStream,
    private val timeoutMillis: Long,
    private val onTimeout: () -> Unit = { out.close() },
) : PrinterSink, AutoCloseable {
    init {
        require(timeoutMillis > 0) { "timeoutMillis must be positive" }
    }

    private val worker: ExecutorService = Executors.newSingleThreadExecutor { task ->
        Thread(task, "printer-write").apply { isDaemon = true }
    }

    @Volatile
    private var failure: String? = null

    override fun writeChunk(chunk: ByteArray) = timed { out.write(chunk) }

    override fun finish() = timed { out.flush() }

    private fun timed(action: () -> Unit) {
        failure?.let { throw printerError(it) }
        val pending = try {
            worker.submit(Callable { action() })
        } catch (_: RejectedExecutionException) {
            throw fail("打印连接已关闭")
        }
        try {
            pending.get(timeoutMillis, TimeUnit.MILLISECONDS)
        } catch (_: TimeoutException) {
            pending.cancel(true)
            abandon()
            throw fail("打印机 ${timeoutText()}内没有接收数据（缺纸、过热或缓冲区满？）")
        } catch (e: ExecutionException) {
            val cause = e.cause ?: e
            val why = cause.message?.takeIf { it.isNotBlank() } ?: cause.javaClass.simpleName
            throw fail(if (cause is IOException) "打印机连接中断：$why" else "打印机连接出错：$why")
        } catch (e: InterruptedException) {
            Thread.currentThread().interrupt()
            pending.cancel(true)
            abandon()
            throw fail("打印被中止")
        }
    }

    private fun timeoutText(): String =
        if (timeoutMillis % 1000 == 0L) "${timeoutMillis / 1000} 秒" else "$timeoutMillis 毫秒"

    // The blocked write holds the worker; closing may itself block on some streams, so it
    // runs on its own thread and the failure reaches core on time regardless.
    private fun abandon() {
        Thread({ runCatching(onTimeout) }, "printer-abandon").apply { isDaemon = true }.start()
    }

    private fun fail(reason: String): AnjianException.Printer {
        failure = reason
        return printerError(reason)
    }

    // Core knows how far the job got; sent and total are filled in there.
    private fun printerError(reason: String) = AnjianException.Printer(0u, 0u, reason)

    override fun close() {
        worker.shutdownNow()
        runCatching { out.close() }
    }
}
