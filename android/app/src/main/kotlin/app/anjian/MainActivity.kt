package app.anjian

import android.app.Activity
import android.app.AlertDialog
import android.content.ActivityNotFoundException
import android.content.Context
import android.content.Intent
import android.content.SharedPreferences
import android.content.pm.PackageManager
import android.graphics.Color
import android.os.Bundle
import android.view.Gravity
import android.view.MenuItem
import android.view.View
import android.view.ViewGroup
import android.widget.FrameLayout
import android.widget.LinearLayout
import android.widget.ProgressBar
import android.widget.TextView
import android.widget.Toast
import app.anjian.ffi.DeviceStore
import app.anjian.logic.needsLogin
import app.anjian.logic.userMessage
import app.anjian.platform.Prefs
import app.anjian.platform.StoreHolder
import app.anjian.screens.HomeScreen
import app.anjian.screens.LoginScreen
import app.anjian.ui.Host
import app.anjian.ui.Screen
import app.anjian.ui.dp
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.MainScope
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

/** The screens on the stack, kept for the process so an activity recreation does not lose them. */
private object Navigation {
    val stack = ArrayList<Screen>()
}

/**
 * The app's only activity: shows the top screen of the stack, runs store calls off the main
 * thread, and routes activity results and permission answers to the screen that asked.
 */
class MainActivity : Activity(), Host {
    private val scope = MainScope()
    private lateinit var content: FrameLayout
    private lateinit var busyCover: LinearLayout
    private lateinit var busyText: TextView
    private var busyCount = 0

    override val activity: Activity get() = this
    override val prefs: SharedPreferences by lazy { getSharedPreferences(Prefs.FILE, Context.MODE_PRIVATE) }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        content = FrameLayout(this)
        busyText = TextView(this).apply {
            textSize = 20f
            setTextColor(Color.WHITE)
            setPadding(dp(16), dp(16), dp(16), dp(16))
        }
        busyCover = LinearLayout(this).apply {
            orientation = LinearLayout.VERTICAL
            gravity = Gravity.CENTER
            setBackgroundColor(Color.argb(0x99, 0, 0, 0))
            // Swallows taps while a call runs, so a slow save is not sent twice.
            isClickable = true
            visibility = View.GONE
            addView(ProgressBar(this@MainActivity))
            addView(busyText)
        }
        val root = FrameLayout(this).apply {
            addView(content, FrameLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.MATCH_PARENT))
            addView(busyCover, FrameLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.MATCH_PARENT))
        }
        setContentView(root)
        if (Navigation.stack.isEmpty()) Navigation.stack += HomeScreen()
        show()
    }

    override fun onDestroy() {
        scope.cancel()
        super.onDestroy()
    }

    private fun top(): Screen = Navigation.stack.last()

    private fun show() {
        val screen = top()
        screen.host = this
        actionBar?.apply {
            title = screen.title
            setDisplayHomeAsUpEnabled(Navigation.stack.size > 1)
        }
        val view = screen.build()
        // Building may itself navigate (a home screen finding nobody logged in); then the
        // screen now on top has been shown already.
        if (top() !== screen) return
        content.removeAllViews()
        content.addView(view, FrameLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.MATCH_PARENT))
    }

    override fun push(screen: Screen) {
        Navigation.stack += screen
        show()
    }

    override fun replace(screen: Screen) {
        Navigation.stack.removeAt(Navigation.stack.lastIndex)
        Navigation.stack += screen
        show()
    }

    override fun resetTo(screen: Screen) {
        Navigation.stack.clear()
        Navigation.stack += screen
        show()
    }

    override fun back() {
        if (Navigation.stack.size > 1) {
            Navigation.stack.removeAt(Navigation.stack.lastIndex)
            top().onReturn()
            show()
        } else {
            finish()
        }
    }

    override fun isShowing(screen: Screen): Boolean = Navigation.stack.lastOrNull() === screen

    override fun refresh(screen: Screen) {
        if (isShowing(screen)) show()
    }

    @Deprecated("Still delivered for apps that do not opt in to predictive back")
    override fun onBackPressed() {
        if (busyCount == 0) back()
    }

    override fun onOptionsItemSelected(item: MenuItem): Boolean {
        if (item.itemId == android.R.id.home) {
            if (busyCount == 0) back()
            return true
        }
        return super.onOptionsItemSelected(item)
    }

    private fun showBusy(text: String?) {
        if (text == null) return
        busyCount++
        busyText.text = text
        busyCover.visibility = View.VISIBLE
    }

    private fun hideBusy(text: String?) {
        if (text == null) return
        busyCount = (busyCount - 1).coerceAtLeast(0)
        if (busyCount == 0) busyCover.visibility = View.GONE
    }

    override fun <T> call(
        busy: String?,
        work: suspend (DeviceStore) -> T,
        failed: (Throwable) -> Unit,
        done: (T) -> Unit,
    ): Job {
        showBusy(busy)
        val appContext = applicationContext
        return scope.launch {
            val result = try {
                withContext(Dispatchers.IO) { work(StoreHolder.get(appContext)) }
            } catch (e: CancellationException) {
                hideBusy(busy)
                throw e
            } catch (e: Throwable) {
                hideBusy(busy)
                failed(e)
                return@launch
            }
            hideBusy(busy)
            done(result)
        }
    }

    override fun showError(error: Throwable) {
        val dialog = AlertDialog.Builder(this)
            .setTitle(if (needsLogin(error)) "需要重新登录" else "操作未完成")
            .setMessage(userMessage(error))
        if (needsLogin(error)) {
            dialog.setPositiveButton("去登录") { _, _ -> resetTo(LoginScreen()) }
            dialog.setNegativeButton("稍后", null)
        } else {
            dialog.setPositiveButton("知道了", null)
        }
        dialog.show()
    }

    override fun alert(title: String, message: String) {
        AlertDialog.Builder(this).setTitle(title).setMessage(message).setPositiveButton("知道了", null).show()
    }

    override fun confirm(title: String, message: String, yes: String, action: () -> Unit) {
        AlertDialog.Builder(this)
            .setTitle(title)
            .setMessage(message)
            .setPositiveButton(yes) { _, _ -> action() }
            .setNegativeButton("取消", null)
            .show()
    }

    override fun toast(text: String) {
        Toast.makeText(this, text, Toast.LENGTH_LONG).show()
    }

    override fun startForResult(intent: Intent, requestCode: Int): Boolean =
        try {
            startActivityForResult(intent, requestCode)
            true
        } catch (_: ActivityNotFoundException) {
            alert("无法打开", "本机没有能处理此操作的应用")
            false
        }

    override fun requestPermissions(permissions: List<String>, requestCode: Int) {
        requestPermissions(permissions.toTypedArray(), requestCode)
    }

    override fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?) {
        super.onActivityResult(requestCode, resultCode, data)
        Navigation.stack.lastOrNull()?.onResult(requestCode, resultCode, data)
    }

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, grantResults: IntArray) {
        super.onRequestPermissionsResult(requestCode, permissions, grantResults)
        val granted = permissions.indices.associate { permissions[it] to (grantResults.getOrNull(it) == PackageManager.PERMISSION_GRANTED) }
        Navigation.stack.lastOrNull()?.onPermissions(requestCode, granted)
    }
}
