package app.anjian.platform

import android.content.Context
import app.anjian.ffi.DeviceStore
import java.io.File

/**
 * The one store of the process. Opening it runs the schema upgrade and loads the library,
 * so it happens once, lazily, on the first IO call, and never on the main thread.
 */
object StoreHolder {
    @Volatile
    private var store: DeviceStore? = null

    fun get(context: Context): DeviceStore =
        store ?: synchronized(this) {
            store ?: DeviceStore.open(home(context).path).also { store = it }
        }

    // App-private storage: the records are enforcement evidence and must not be readable by
    // other apps; Android removes the folder with the app.
    fun home(context: Context): File = File(context.applicationContext.filesDir, "store").apply { mkdirs() }
}
