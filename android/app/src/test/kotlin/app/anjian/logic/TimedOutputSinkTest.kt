package app.anjian.logic

import app.anjian.ffi.AnjianException
import java.io.ByteArrayOutputStream
import java.io.IOException
import java.io.OutputStream
import java.io.PipedInputStream
import java.io.PipedOutputStream
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class TimedOutputSinkTest {
    private class Recording : ByteArrayOutputStream() {
        var flushes = 0

        override fun flush() {
            flushes++
        }
    }

    @Test
    fun `chunks reach the stream in order and finish flushes it`() {
        val out = Recording()
        TimedOutputSink(out, 1_000).use { sink ->
            sink.writeChunk(byteArrayOf(1, 2, 3))
            sink.writeChunk(byteArrayOf(4))
            assertEquals(0, out.flushes)
            sink.finish()
        }
        assertArrayEquals(byteArrayOf(1, 2, 3, 4), out.toByteArray())
        assertEquals(1, out.flushes)
    }

    @Test
    fun `a write that blocks fails within the timeout and the stuck stream is closed`() {
        // Nobody reads the pipe: once its 1024-byte buffer is full, a write waits for ever.
        val printer = PipedInputStream(1024)
        val out = PipedOutputStream(printer)
        val sink = TimedOutputSink(out, 300)
        sink.writeChunk(ByteArray(1024) { 7 })

        val started = System.nanoTime()
        val stuck = assertThrows<AnjianException.Printer> { sink.writeChunk(ByteArray(256)) }
        val waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)
        assertTrue(waited in 250..1_500, "failed after $waited ms")
        assertEquals("打印机 300 毫秒内没有接收数据（缺纸、过热或缓冲区满？）", stuck.detail)

        // The stream was closed to free the blocked write: the printer side sees the end.
        assertEquals(1024, printer.readBytes().size)
        // A failed sink refuses at once rather than queueing behind the stuck write.
        val again = System.nanoTime()
        assertThrows<AnjianException.Printer> { sink.finish() }
        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - again) < 100)
        sink.close()
    }

    @Test
    fun `the timeout action runs when a write blocks`() {
        val released = CountDownLatch(1)
        val blocked = CountDownLatch(1)
        val hanging = object : OutputStream() {
            override fun write(b: Int) {
                blocked.await()
            }
        }
        val sink = TimedOutputSink(hanging, 1_000, onTimeout = { released.countDown(); blocked.countDown() })
        val error = assertThrows<AnjianException.Printer> { sink.writeChunk(byteArrayOf(1)) }
        assertEquals("打印机 1 秒内没有接收数据（缺纸、过热或缓冲区满？）", error.detail)
        assertTrue(released.await(2, TimeUnit.SECONDS))
        sink.close()
    }

    @Test
    fun `a broken connection and a closed sink fail as printer errors`() {
        val broken = object : OutputStream() {
            override fun write(b: Int) = throw IOException("Broken pipe")
        }
        val sink = TimedOutputSink(broken, 1_000)
        assertEquals("打印机连接中断：Broken pipe", assertThrows<AnjianException.Printer> { sink.writeChunk(byteArrayOf(1)) }.detail)
        sink.close()

        val closed = TimedOutputSink(ByteArrayOutputStream(), 1_000)
        closed.close()
        assertEquals("打印连接已关闭", assertThrows<AnjianException.Printer> { closed.writeChunk(byteArrayOf(1)) }.detail)
    }
}
