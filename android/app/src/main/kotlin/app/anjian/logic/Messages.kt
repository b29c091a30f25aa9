package app.anjian.logic

import app.anjian.ffi.AnjianException
import java.io.IOException

/**
 * The sentence an inspector reads for a failure. Core writes its own in `detail`; `message` of
 * the generated exceptions is a field dump meant for logs, so it is never shown.
 */
fun userMessage(error: Throwable): String = when (error) {
    is AnjianException.NotFound -> error.detail
    is AnjianException.InvalidInput -> error.detail
    is AnjianException.Incomplete -> error.detail
    is AnjianException.Locked -> error.detail
    is AnjianException.NotReady -> error.detail
    is AnjianException.NotLoggedIn -> error.detail
    is AnjianException.Network -> error.detail
    is AnjianException.Server -> error.detail
    is AnjianException.Printer -> error.detail
    is AnjianException.Storage -> error.detail
    is IOException -> "读写失败：" + (error.message ?: error.javaClass.simpleName)
    else -> "出现意外错误（" + error.javaClass.simpleName + "）" + (error.message?.let { "：$it" } ?: "")
}

/** Whether the way out of this failure is logging in again. */
fun needsLogin(error: Throwable): Boolean = error is AnjianException.NotLoggedIn
