package app.anjian.platform

import android.content.Context
import android.os.Looper
import app.anjian.ffi.DeviceStore
import java.io.File

/**
 * The one store of the process. Opening it runs the schema upgrade and loads the library,
 * so it happens once, lazily, on the first IO call, and never on the main thread.
 *
 * Every store call blocks on disk (and sync on the network): on the main thread it would
 * freeze the screen, and past five seconds Android offers to kill the app. The store is only
 * reached through here, so refusing the main thread here keeps every core call off it; the
 * Robolectric tests, which run their taps on the main thread, would fail on any screen that
 * tried.
 */
object StoreHolder {
    @Volatile
    private var store: DeviceStore? = null

    fun get(context: Context): DeviceStore {
        check(Looper.myLooper() != Looper.getMainLooper()) { "the store is used on the main thread: run it through Host.call" }
        return store ?: synchronized(this) {
            store ?: DeviceStore.open(home(context).path).also { store = it }
        }
    }

    // App-private storage: the records are enforcement evidence and must not be readable by
    // other apps; Android removes the folder with the app.
    fun home(context: Context): File = File(context.applicationContext.filesDir, "store").apply { mkdirs() }
}
