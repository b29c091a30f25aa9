package app.anjian.shell

import android.app.AlertDialog
import android.app.Application
import android.bluetooth.BluetoothAdapter
import android.bluetooth.BluetoothClass
import android.bluetooth.BluetoothDevice
import android.bluetooth.BluetoothManager
import android.graphics.Bitmap
import android.graphics.Canvas
import android.os.Looper
import android.view.View
import android.view.ViewGroup
import android.widget.Button
import android.widget.EditText
import android.widget.TextView
import app.anjian.MainActivity
import app.anjian.ffi.AnswerInput
import app.anjian.ffi.ChecklistItemView
import app.anjian.ffi.DeviceStore
import app.anjian.ffi.DocumentType
import app.anjian.ffi.InspectorView
import app.anjian.platform.BluetoothPrinting
import app.anjian.platform.FileShareProvider
import app.anjian.platform.StoreHolder
import java.io.File
import java.io.IOException
import java.io.PipedOutputStream
import java.nio.charset.Charset
import java.time.LocalDate
import java.time.ZoneOffset
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.TimeoutException
import org.junit.Assert.assertTrue
import org.robolectric.Robolectric
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.android.controller.ActivityController
import org.robolectric.shadows.ShadowAlertDialog
import org.robolectric.shadows.ShadowBluetoothDevice
import org.robolectric.shadows.ShadowToast

/**
 * The two screen sizes the shell is drawn at: a 10-inch tablet held landscape (1280×800 px at
 * mdpi) and a common phone (360×800 dp at xhdpi, 720×1600 px).
 */
object Sizes {
    const val TABLET = "w1280dp-h800dp-land-mdpi"
    const val PHONE = "w360dp-h800dp-port-xhdpi"
}

/** Where the tests find the repository's data, the binaries and the screenshot folder. */
object Paths {
    val repo = File(System.getProperty("anjian.repo") ?: error("anjian.repo is not set"))
    val server = File(System.getProperty("anjian.server") ?: error("anjian.server is not set"))
    val cli = File(System.getProperty("anjian.cli") ?: error("anjian.cli is not set"))
    val screenshots = File(System.getProperty("anjian.screenshots") ?: error("anjian.screenshots is not set"))
}

val GB18030: Charset = Charset.forName("GB18030")

/** 淄博齐林电力设备制造有限公司, 工贸, the one enterprise of 张伟's 科苑街道 in the demo register. */
const val FACTORY = "913703030226339277"
const val FACTORY_NAME = "淄博齐林电力设备制造有限公司"

/** 张伟's colleague 李娜, as the co-inspector line the start screen takes. */
const val LI = "李娜:37030002:2030-12-31"

/** The real anjian-server with the demo world, started once for every test that syncs. */
object TestServer {
    private val started: Pair<String, String> by lazy { start() }

    val url: String get() = started.first
    val password: String get() = started.second

    private fun start(): Pair<String, String> {
        check(Paths.server.canExecute()) { "no server binary at ${Paths.server}: run through cargo xtask jvm-test" }
        val data = kotlin.io.path.createTempDirectory("anjian-server").toFile()
        val process = ProcessBuilder(Paths.server.path, "--data", data.path, "serve", "--demo", "--listen", "127.0.0.1:0")
            .redirectErrorStream(true)
            .start()
        Runtime.getRuntime().addShutdownHook(Thread { process.destroy() })
        val output = process.inputStream.bufferedReader()
        val listening = Regex("正在监听 (http://[0-9.:]+)")
        val seen = StringBuilder()
        while (true) {
            val line = output.readLine() ?: error("the server stopped before listening:\n$seen")
            seen.appendLine(line)
            val match = listening.find(line) ?: continue
            // Keep draining the server's output so that it never blocks on a full pipe.
            Thread { output.forEachLine { } }.apply { isDaemon = true }.start()
            return match.groupValues[1] to File(data, "demo-password.txt").readText().trim()
        }
    }
}

/**
 * Store work a test does itself, as another part of the app would: on a worker thread, since
 * the store refuses the main thread (which is the test's thread under Robolectric).
 */
fun <T> offMain(work: () -> T): T {
    var result: Result<T>? = null
    val thread = Thread { result = runCatching(work) }
    thread.start()
    thread.join(TimeUnit.MINUTES.toMillis(2))
    return checkNotNull(result) { "store work did not finish" }.getOrThrow()
}

fun appStore(): DeviceStore = offMain { StoreHolder.get(RuntimeEnvironment.getApplication()) }

/**
 * The state the app keeps for its process (the screen stack, the open store, the last sync)
 * outlives a test in Robolectric's shared sandbox, where a new test is a new process on a
 * real device: cleared here, by reflection, so the app itself carries no test hook.
 */
fun resetProcess() {
    val navigation = Class.forName("app.anjian.Navigation")
    val instance = navigation.getDeclaredField("INSTANCE").apply { isAccessible = true }.get(null)
    (navigation.getDeclaredMethod("getStack").apply { isAccessible = true }.invoke(instance) as MutableList<*>).clear()
    val holder = StoreHolder::class.java.getDeclaredField("store").apply { isAccessible = true }
    (holder.get(StoreHolder) as DeviceStore?)?.destroy()
    holder.set(StoreHolder, null)
    val lastSync = Class.forName("app.anjian.screens.LastSync")
    for (name in listOf("report", "at")) {
        lastSync.getDeclaredField(name).apply { isAccessible = true }.set(null, null)
    }
}

/** A device set up without a server, as `anjian init` does: 张伟, the demo register, numbers. */
fun offlineDevice(): DeviceStore {
    val store = appStore()
    offMain {
        store.initProfile(InspectorView("张伟", "37030001", "2030-12-31"), File(Paths.repo, "templates/agency.example.toml").readText())
        store.importEnterprises("enterprises.csv", File(Paths.repo, "templates/demo/enterprises.csv").readBytes())
        val year = LocalDate.now(ZoneOffset.ofHours(8)).year
        for (type in DocumentType.entries) store.addNumberBlock(type, year, 1u, 50u)
    }
    return store
}

/** The input that passes an item: pass, the lower bound of a measure, or a note. */
fun passingInput(item: ChecklistItemView): String = when (item.answerKind) {
    "check" -> "pass"
    "measure" -> (item.min ?: item.max ?: error("measure without bounds: ${item.code}")).toString()
    else -> "已记录"
}

/** Answers, through the store, every required item of a record not answered yet, except `skip`. */
fun answerRestPassing(store: DeviceStore, recordId: String, skip: Set<String>) = offMain {
    store.checklist(recordId)
        .filter { it.required && it.answer == null && it.code !in skip }
        .forEach { store.answer(recordId, it.code, passingInput(it), AnswerInput()) }
}

/** The paired Bluetooth printer of the tests, and the end of its socket the test reads. */
class Printer(private val application: Application) {
    val adapter: BluetoothAdapter = application.getSystemService(BluetoothManager::class.java).adapter
    val device: BluetoothDevice = adapter.getRemoteDevice(ADDRESS)

    fun pair() {
        shadowOf(adapter).setEnabled(true)
        shadowOf(device).setName(NAME)
        // Major class imaging, minor printer: what a receipt printer announces.
        val printerClass = BluetoothClass::class.java.getDeclaredConstructor(Int::class.javaPrimitiveType)
            .apply { isAccessible = true }
            .newInstance(0x0680)
        shadowOf(device).setBluetoothClass(printerClass)
        shadowOf(adapter).setBondedDevices(setOf(device))
    }

    /**
     * Robolectric hands out one socket per test until reset; a print closes it, so each job
     * gets a fresh socket whose output stream is `end`.
     */
    fun nextJobGoesTo(end: PrinterEnd) {
        ShadowBluetoothDevice.reset()
        val socket = device.createRfcommSocketToServiceRecord(BluetoothPrinting.SPP_UUID)
        shadowOf(socket).setOutputStream(end)
    }

    companion object {
        const val ADDRESS = "00:11:22:33:44:55"
        const val NAME = "PT-210"
    }
}

/**
 * The printer's side of the socket: keeps every write as one chunk, and can behave like a
 * printer that goes away (`failAfter` bytes, then the link breaks), one that stalls (blocks
 * after `stallAfter` bytes until the app gives up and closes), or a slow serial link
 * (`bytesPerSecond`, each write taking as long as its bytes take on the wire).
 */
class PrinterEnd(
    private val failAfter: Int? = null,
    private val stallAfter: Int? = null,
    private val bytesPerSecond: Int? = null,
) : PipedOutputStream() {
    private val received = java.io.ByteArrayOutputStream()
    private val sizes = mutableListOf<Int>()
    private val closedLatch = CountDownLatch(1)

    @Volatile
    var lastByteNanos: Long = 0
        private set

    @Volatile
    var closed = false
        private set

    val bytes: ByteArray @Synchronized get() = received.toByteArray()
    val chunks: List<Int> @Synchronized get() = sizes.toList()

    override fun write(b: Int) = write(byteArrayOf(b.toByte()), 0, 1)

    override fun write(b: ByteArray, off: Int, len: Int) {
        if (closed) throw IOException("socket closed")
        val already = synchronized(this) { received.size() }
        failAfter?.let { limit -> if (already >= limit) throw IOException("Broken pipe") }
        stallAfter?.let { limit ->
            if (already >= limit) {
                closedLatch.await()
                throw IOException("socket closed")
            }
        }
        bytesPerSecond?.let { rate -> Thread.sleep(len * 1000L / rate) }
        synchronized(this) {
            received.write(b, off, len)
            sizes += len
        }
        lastByteNanos = System.nanoTime()
    }

    override fun flush() {}

    override fun close() {
        closed = true
        closedLatch.countDown()
    }
}

/** Renders a document with the real CLI on the app's own store: what the printer must receive. */
fun cliEscpos(recordId: String, type: String, extra: List<String> = listOf()): ByteArray {
    val home = StoreHolder.home(RuntimeEnvironment.getApplication())
    val out = File.createTempFile("job", ".bin")
    val command = listOf(Paths.cli.path, "--home", home.path, "doc", "render", recordId, "--type", type, "--format", "escpos", "--out", out.path) + extra
    val process = ProcessBuilder(command).redirectErrorStream(true).start()
    val output = process.inputStream.bufferedReader().readText()
    check(process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0) { "anjian doc render failed: $output" }
    return out.readBytes()
}

fun contains(haystack: ByteArray, needle: ByteArray): Boolean =
    (0..haystack.size - needle.size).any { start -> needle.indices.all { haystack[start + it] == needle[it] } }

/**
 * Drives the app as an inspector would: finds what is on screen by its text, taps, types,
 * and waits for the store calls running on IO threads to come back to the main thread.
 */
class Shell(size: String = Sizes.TABLET) {
    val application: Application = RuntimeEnvironment.getApplication()
    private var controller: ActivityController<MainActivity>

    init {
        RuntimeEnvironment.setQualifiers(size)
        Robolectric.setupContentProvider(FileShareProvider::class.java, FileShareProvider.AUTHORITY)
        controller = build()
    }

    val activity: MainActivity get() = controller.get()

    // Binary resources need an APK, which needs aapt2; so Robolectric does not apply the
    // manifest here, and the theme it names is set the way the manifest would set it.
    private fun build(): ActivityController<MainActivity> =
        Robolectric.buildActivity(MainActivity::class.java).also {
            it.get().setTheme(android.R.style.Theme_Material_Light_DarkActionBar)
            it.setup()
        }

    /** Destroys and recreates the activity, as Android does on a configuration change. */
    fun recreate() {
        val bundle = android.os.Bundle()
        controller.pause().saveInstanceState(bundle).stop().destroy()
        controller = Robolectric.buildActivity(MainActivity::class.java).also {
            it.get().setTheme(android.R.style.Theme_Material_Light_DarkActionBar)
            it.setup(bundle)
        }
        idle()
    }

    fun idle() = shadowOf(Looper.getMainLooper()).idle()

    private fun root(): View = activity.window.decorView

    private fun views(root: View = root()): Sequence<View> = sequence {
        yield(root)
        if (root is ViewGroup) for (i in 0 until root.childCount) yieldAll(views(root.getChildAt(i)))
    }

    /** Every text showing, in order, one per line. */
    fun screenText(): String =
        views().filter { it.isShown && it is TextView && it !is EditText }.joinToString("\n") { (it as TextView).text }

    fun shows(text: String): Boolean = screenText().contains(text)

    /** Waits (idling the main thread, where results arrive) until `text` shows. */
    fun await(text: String, seconds: Long = 60) = awaitThat("“$text” on screen", seconds) { shows(text) }

    fun awaitThat(what: String, seconds: Long = 60, condition: () -> Boolean) {
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds)
        while (true) {
            idle()
            if (condition()) return
            if (System.nanoTime() > deadline) throw TimeoutException("waited $seconds s for $what; the screen shows:\n${screenText()}")
            Thread.sleep(15)
        }
    }

    /** The texts showing that are neither buttons nor fields. */
    fun textViews(): List<TextView> =
        views().filter { it.isShown && it is TextView && it !is Button && it !is EditText }.map { it as TextView }.toList()

    fun buttons(): List<Button> = views().filter { it.isShown && it is Button }.map { it as Button }.toList()

    fun button(label: String): Button =
        buttons().firstOrNull { it.text.toString() == label }
            ?: buttons().firstOrNull { it.text.toString().startsWith(label) }
            ?: throw AssertionError("no button “$label”; buttons: ${buttons().map { it.text }}\nscreen:\n${screenText()}")

    /** Waits until no store call covers the screen (a tap there would be swallowed). */
    fun awaitNotBusy() = awaitThat("the busy cover gone") { views().none { it.isShown && it is android.widget.ProgressBar } }

    fun tap(label: String) {
        awaitNotBusy()
        assertTrue("“$label” is disabled", button(label).isEnabled)
        button(label).performClick()
        idle()
    }

    /** Taps the list row (a clickable line, not a button) whose text contains `text`. */
    fun tapRow(text: String) {
        val label = views().firstOrNull { it.isShown && it is TextView && it !is Button && it.text.contains(text) }
            ?: throw AssertionError("no row with “$text”; screen:\n${screenText()}")
        var view: View? = label
        while (view != null && !view.isClickable) view = view.parent as? View
        checkNotNull(view) { "“$text” is not in a tappable row" }.performClick()
        idle()
    }

    fun field(hint: String): EditText =
        views().filter { it.isShown && it is EditText }.map { it as EditText }.firstOrNull { it.hint?.toString() == hint }
            ?: throw AssertionError("no field “$hint”; screen:\n${screenText()}")

    fun type(hint: String, value: String) {
        field(hint).setText(value)
        idle()
    }

    fun back() {
        awaitNotBusy()
        @Suppress("DEPRECATION")
        activity.onBackPressed()
        idle()
    }

    /** The dialog showing now, if any. */
    fun dialog(): AlertDialog? = (ShadowAlertDialog.getLatestAlertDialog())?.takeIf { it.isShowing }

    fun dialogText(): String = dialog()?.let { dialog ->
        listOfNotNull(shadowOf(dialog).title, shadowOf(dialog).message).joinToString("\n")
    } ?: ""

    /** Taps the dialog's positive button (签发, 提交, 知道了). */
    fun confirm(): String {
        val dialog = checkNotNull(dialog()) { "no dialog showing; screen:\n${screenText()}" }
        val text = dialogText()
        dialog.getButton(AlertDialog.BUTTON_POSITIVE).performClick()
        idle()
        return text
    }

    fun lastToast(): String? = ShadowToast.getTextOfLatestToast()

    /**
     * Draws the screen showing now as PNGs under the build folder: at this size, then, by a
     * recreation at the other size, at that one (which is also what a rotation or a fold
     * does to the screen stack), then back.
     */
    fun screenshot(name: String) {
        draw("$name-tablet")
        RuntimeEnvironment.setQualifiers(Sizes.PHONE)
        recreate()
        awaitThat("the screen rebuilt at phone size") { !shows("正在读取…") }
        draw("$name-phone")
        RuntimeEnvironment.setQualifiers(Sizes.TABLET)
        recreate()
        awaitThat("the screen rebuilt at tablet size") { !shows("正在读取…") }
    }

    private fun draw(file: String) {
        idle()
        val view = root()
        val bitmap = Bitmap.createBitmap(view.width, view.height, Bitmap.Config.ARGB_8888)
        view.draw(Canvas(bitmap))
        Paths.screenshots.mkdirs()
        File(Paths.screenshots, "$file.png").outputStream().use { bitmap.compress(Bitmap.CompressFormat.PNG, 100, it) }
    }

    /** From the home screen, through the records list, to the print screen of a draft's order. */
    fun openOrderPrinting(number: String) {
        await(FACTORY_NAME)
        tap("检查记录")
        await("草稿")
        tapRow(FACTORY_NAME)
        await("隐患与提交")
        tap("文书")
        await(number)
        tap("责令限期整改指令书")
        await("热敏打印")
        tap("热敏打印")
        await("热敏打印")
    }

    /** Every visible tappable view smaller than `minDp` either way, by its text. */
    fun smallTouchTargets(minDp: Int): List<String> {
        val density = activity.resources.displayMetrics.density
        return views().filter { it.isShown && it.isClickable && it !is EditText && it.width > 0 }
            .filter { it.height < minDp * density - 0.5f || it.width < minDp * density - 0.5f }
            .filter { it.rootView === root() && it !== root() }
            .map { (it as? TextView)?.text?.toString() ?: it.javaClass.simpleName }
            .toList()
    }
}
