package app.anjian.shell

import android.Manifest
import android.content.pm.PackageManager
import android.provider.MediaStore
import app.anjian.ffi.AnswerInput
import app.anjian.ffi.DeviceStore
import app.anjian.ffi.DocumentType
import app.anjian.platform.StoreHolder
import java.time.LocalDate
import java.time.ZoneOffset
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.annotation.GraphicsMode

/**
 * What the inspector sees when something is refused or missing: each case shows a clear
 * Chinese message on the screen where it happened, and what was typed or stored is kept.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35], qualifiers = Sizes.TABLET)
@GraphicsMode(GraphicsMode.Mode.NATIVE)
class FailuresTest {
    @Before
    fun fresh() = resetProcess()

    @After
    fun close() = resetProcess()

    private val day: LocalDate get() = LocalDate.now(ZoneOffset.ofHours(8))

    /** A record with every required item answered, IT-001 failed with a deadline, and its order issued. */
    private fun recordWithOrder(store: DeviceStore): Pair<String, String> {
        val recordId = offMain {
            val record = store.startInspection(FACTORY, "trade-enforcement", listOf(LI), null, null)
            store.answer(record.id, "IT-001", "fail", AnswerInput(note = "无安全管理协议", deadline = day.plusDays(15).toString()))
            record.id
        }
        answerRestPassing(store, recordId, skip = setOf())
        // The order follows the record it is issued from.
        return recordId to offMain {
            store.issueDocument(recordId, DocumentType.RECORD)
            store.issueDocument(recordId, DocumentType.ORDER).number
        }
    }

    /** From the home screen, through the records list, to submitting the draft there. */
    private fun submitTheDraft(shell: Shell) {
        shell.await(FACTORY_NAME)
        shell.tap("检查记录")
        shell.await("草稿")
        shell.tapRow(FACTORY_NAME)
        shell.await("隐患与提交")
        shell.tap("隐患与提交")
        shell.await("提交检查记录")
        shell.tap("提交检查记录")
        shell.confirm()
        shell.await("尚不能提交")
    }

    private fun deny(shell: Shell, expected: String) {
        val request = shadowOf(shell.activity).lastRequestedPermission
        assertTrue("asked for $expected: ${request?.requestedPermissions?.toList()}", request?.requestedPermissions?.contains(expected) == true)
        val permissions = request.requestedPermissions
        shell.activity.onRequestPermissionsResult(request.requestCode, permissions, IntArray(permissions.size) { PackageManager.PERMISSION_DENIED })
        shell.idle()
    }

    @Test
    fun `the store refuses the main thread`() {
        val refused = runCatching { StoreHolder.get(org.robolectric.RuntimeEnvironment.getApplication()) }.exceptionOrNull()
        assertTrue("$refused", refused is IllegalStateException)
    }

    @Test
    fun `an unreachable server is told on the login screen, and what was typed stays`() {
        val shell = Shell()
        shell.await("安监执法终端")
        // Port 9 (discard) has no listener here: the connection is refused at once.
        shell.type("如 https://anjian.example.gov.cn", "http://127.0.0.1:9")
        shell.type("执法账号", "zhang")
        shell.type("密码", "secret-pass")
        val before = shell.screenText().lines().toSet()
        shell.tap("登录")
        shell.awaitThat("a failure message") { (shell.screenText().lines() - before).any { it.isNotBlank() } }
        val shown = (shell.screenText().lines() - before).joinToString("\n")
        assertTrue("a Chinese message: $shown", shown.any { it in '\u4e00'..'\u9fff' })
        assertTrue(shell.shows("安监执法终端"))
        assertEquals("http://127.0.0.1:9", shell.field("如 https://anjian.example.gov.cn").text.toString())
        assertEquals("zhang", shell.field("执法账号").text.toString())
        assertNull("nothing is kept from a failed login", offMain { StoreHolder.get(shell.application).profile() }.server)
    }

    @Test
    fun `a denied camera leaves the failed answer being written as it was`() {
        offlineDevice()
        val shell = Shell()
        shell.await(FACTORY_NAME)
        shell.tapRow(FACTORY_NAME)
        shell.await("工贸企业安全生产执法检查表")
        shell.type("如 李娜:37030002:2030-12-31", LI)
        shell.tap("开始检查")
        shell.await("第 1/91 项")
        shell.tap("不合格")
        shell.type("现场情况说明（可不填）", "协议缺失")
        shell.tap("拍照")
        deny(shell, Manifest.permission.CAMERA)
        assertTrue(shell.dialogText(), shell.dialogText().contains("未获得相机权限"))
        val started = generateSequence { shadowOf(shell.activity).nextStartedActivityForResult }.map { it.intent.action }.toList()
        assertFalse("no camera is started without the permission: $started", MediaStore.ACTION_IMAGE_CAPTURE in started)
        shell.confirm()
        assertEquals("协议缺失", shell.field("现场情况说明（可不填）").text.toString())
        assertTrue("the failure's deadline fields still show", shell.shows("整改期限（YYYY-MM-DD）"))
    }

    @Test
    fun `Bluetooth denied, switched off, or with no printer paired, each says what to do`() {
        val store = offlineDevice()
        val (_, number) = recordWithOrder(store)
        val shell = Shell()
        shell.openOrderPrinting(number)
        shell.await("连接蓝牙打印机需要“附近的设备”权限")
        shell.tap("授予蓝牙权限")
        deny(shell, Manifest.permission.BLUETOOTH_CONNECT)
        // Denied for good: only the settings page can grant it now.
        shell.await("打开应用权限设置")
        shell.screenshot("20-print-permission")

        shadowOf(shell.application).grantPermissions(Manifest.permission.BLUETOOTH_CONNECT, Manifest.permission.BLUETOOTH_SCAN)
        val printer = Printer(shell.application)
        shadowOf(printer.adapter).setEnabled(false)
        shell.back()
        shell.tap("热敏打印")
        shell.await("蓝牙未打开")
        assertTrue(shell.button("打开蓝牙").isEnabled)

        shadowOf(printer.adapter).setEnabled(true)
        shell.back()
        shell.tap("热敏打印")
        shell.await("没有已配对的蓝牙设备")
        assertTrue(shell.shows("请选择打印机"))
    }

    @Test
    fun `a printer that stalls mid-job is given up on with a message, and the retry prints it all`() {
        val store = offlineDevice()
        val (recordId, number) = recordWithOrder(store)
        val shell = Shell()
        shadowOf(shell.application).grantPermissions(Manifest.permission.BLUETOOTH_CONNECT, Manifest.permission.BLUETOOTH_SCAN)
        val printer = Printer(shell.application).apply { pair() }
        shell.openOrderPrinting(number)
        shell.await(Printer.NAME)

        val stuck = PrinterEnd(stallAfter = 512)
        printer.nextJobGoesTo(stuck)
        shell.tap("打印（一式两联）")
        shell.await("内没有接收数据", seconds = 90)
        assertTrue("the stuck link is closed", stuck.closed)

        val job = cliEscpos(recordId, "order")
        val retry = PrinterEnd()
        printer.nextJobGoesTo(retry)
        shell.tap("打印（一式两联）")
        shell.await("两联已打印", seconds = 90)
        assertArrayEquals(job, retry.bytes)
        assertTrue(contains(retry.bytes, number.toByteArray(GB18030)))
    }

    @Test
    fun `an incomplete record is refused with every missing item named, and nothing is lost`() {
        val store = offlineDevice()
        val recordId = offMain {
            val record = store.startInspection(FACTORY, "trade-enforcement", listOf(LI), null, null)
            store.answer(record.id, "IT-001", "pass", AnswerInput(note = "已核对协议"))
            record.id
        }
        val shell = Shell()
        submitTheDraft(shell)
        assertTrue(shell.screenText(), shell.shows("IT-002"))
        shell.screenshot("21-refused")
        val record = offMain { store.record(recordId) }
        assertEquals("draft", record.status)
        assertEquals("已核对协议", record.answers.single { it.item == "IT-001" }.note)
    }

    @Test
    fun `a co-inspector's expired certificate refuses the submission and says whose`() {
        val store = offlineDevice()
        val recordId = offMain { store.startInspection(FACTORY, "trade-enforcement", listOf("李娜:37030002:2020-01-01"), null, null).id }
        answerRestPassing(store, recordId, skip = setOf())
        val shell = Shell()
        submitTheDraft(shell)
        assertTrue(shell.screenText(), shell.shows("李娜（37030002）的执法证已于 2020-01-01 到期"))
        assertEquals("draft", offMain { store.record(recordId) }.status)
    }
}
