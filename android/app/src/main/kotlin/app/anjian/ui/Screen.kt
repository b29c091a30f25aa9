package app.anjian.ui

import android.app.Activity
import android.content.Intent
import android.content.SharedPreferences
import android.view.View
import app.anjian.ffi.DeviceStore
import app.anjian.logic.needsLogin
import app.anjian.logic.userMessage
import kotlinx.coroutines.Job

/** What a screen may ask of the activity that shows it. */
interface Host {
    val activity: Activity
    val prefs: SharedPreferences

    fun push(screen: Screen)

    /** Replaces the top screen, so that back skips the one replaced. */
    fun replace(screen: Screen)

    /** Clears the stack and shows `screen` alone (after login, logout). */
    fun resetTo(screen: Screen)

    fun back()

    /** Rebuilds `screen`'s view if it is the one showing. */
    fun refresh(screen: Screen)

    fun isShowing(screen: Screen): Boolean

    /**
     * Runs `work` with the store on an IO thread and hands its result to `done` on the main
     * thread; a failure goes to `failed` (by default a dialog with core's text). With `busy`,
     * the screen is covered by a progress message meanwhile so nothing is tapped twice.
     */
    fun <T> call(
        busy: String?,
        work: suspend (DeviceStore) -> T,
        failed: (Throwable) -> Unit = this::showError,
        done: (T) -> Unit,
    ): Job

    fun showError(error: Throwable)

    fun alert(title: String, message: String)

    fun confirm(title: String, message: String, yes: String, action: () -> Unit)

    fun toast(text: String)

    /** Starts another app's activity; false (and a message) when no app can handle it. */
    fun startForResult(intent: Intent, requestCode: Int): Boolean

    fun requestPermissions(permissions: List<String>, requestCode: Int)
}

/**
 * One screen, its view built in code. Screens live on a stack kept outside the activity, so
 * they keep their state across an activity recreation; `build` is called each time the screen
 * comes to the front or asks to be refreshed, and must build from the screen's fields.
 */
abstract class Screen {
    lateinit var host: Host

    abstract val title: String

    abstract fun build(): View

    open fun onResult(requestCode: Int, resultCode: Int, data: Intent?) {}

    open fun onPermissions(requestCode: Int, granted: Map<String, Boolean>) {}

    /** The screen is on top again after the one above it closed, which may have changed its data. */
    open fun onReturn() {}

    fun refresh() = host.refresh(this)
}

/**
 * A screen that shows data loaded from the store: a progress line until it arrives, an error
 * with a retry button if loading failed, then the content. `reload` fetches it again.
 */
abstract class LoadingScreen<T : Any> : Screen() {
    private var data: T? = null
    private var problem: String? = null
    private var job: Job? = null
    private var stale = false

    protected abstract suspend fun load(store: DeviceStore): T

    protected abstract fun content(data: T): View

    // The data stays on screen while it is read again, so going back does not flash a blank page.
    override fun onReturn() {
        stale = true
    }

    final override fun build(): View {
        data?.let { shown ->
            if (stale && job?.isActive != true) {
                stale = false
                job = host.call(busy = null, work = ::load, failed = { error -> host.toast(userMessage(error)) }) { fresh ->
                    data = fresh
                    refresh()
                }
            }
            return content(shown)
        }
        val ctx = host.activity
        problem?.let { text ->
            return ctx.column {
                message(text, Palette.ERROR)
                button("重试") { reload() }
            }
        }
        if (job?.isActive != true) {
            job = host.call(
                busy = null,
                work = ::load,
                failed = { error ->
                    problem = userMessage(error)
                    if (needsLogin(error)) host.showError(error)
                    refresh()
                },
            ) { loaded ->
                data = loaded
                refresh()
            }
        }
        return ctx.column { message("正在读取…", Palette.MUTED) }
    }

    /** Shows data the screen already has (the answer of a save), without loading again. */
    protected fun replaceData(fresh: T) {
        job?.cancel()
        job = null
        problem = null
        data = fresh
        refresh()
    }

    fun reload() {
        stale = false
        data = null
        problem = null
        job?.cancel()
        job = null
        refresh()
    }
}
