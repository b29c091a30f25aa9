package app.anjian.shell

import android.graphics.Bitmap
import android.graphics.Canvas
import android.graphics.Color
import android.util.TypedValue
import android.view.View
import android.widget.Button
import android.widget.TextView
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.annotation.Config
import org.robolectric.annotation.GraphicsMode
import kotlin.math.max
import kotlin.math.min
import kotlin.math.pow

/**
 * The checklist as it is used outdoors, and the screen stack across recreations: what the
 * inspector was writing survives the activity being rebuilt (rotation, resizing, a fold).
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35], qualifiers = Sizes.TABLET)
@GraphicsMode(GraphicsMode.Mode.NATIVE)
class ScreensTest {
    @Before
    fun fresh() = resetProcess()

    @After
    fun close() = resetProcess()

    private fun checklist(): Shell {
        offlineDevice()
        val shell = Shell()
        shell.await(FACTORY_NAME)
        shell.tapRow(FACTORY_NAME)
        shell.await("工贸企业安全生产执法检查表")
        shell.type("如 李娜:37030002:2030-12-31", LI)
        shell.tap("开始检查")
        shell.await("第 1/91 项")
        return shell
    }

    @Test
    fun `a failed answer being written survives the activity's recreation, and saves after it`() {
        val shell = checklist()
        shell.tap("不合格")
        shell.type("现场情况说明（可不填）", "未签安全管理协议")
        shell.recreate()
        shell.await("第 1/91 项")
        assertEquals("未签安全管理协议", shell.field("现场情况说明（可不填）").text.toString())
        assertTrue("still writing a failure", shell.shows("整改期限（YYYY-MM-DD）"))
        shell.tap("7 天")
        shell.tap("保存：不合格")
        shell.await("第 2/91 项")
        val recordId = offMain { appStore().records() }.single().id
        val saved = offMain { appStore().record(recordId) }.answers.single { it.item == "IT-001" }
        assertEquals("fail", saved.status)
        assertEquals("未签安全管理协议", saved.note)
    }

    @Test
    fun `the checklist is usable with gloves and in sunlight`() {
        val shell = checklist()
        assertEquals("every tappable thing is at least 48 dp both ways", listOf<String>(), shell.smallTouchTargets(48))
        val metrics = shell.activity.resources.displayMetrics
        val item = shell.textViews().single { it.text.startsWith("IT-001") }
        val sp = item.textSize / TypedValue.applyDimension(TypedValue.COMPLEX_UNIT_SP, 1f, metrics)
        assertTrue("the item's text is $sp sp", sp >= 16f)
        for (label in listOf("合格", "不合格", "不适用")) {
            val button = shell.button(label)
            val buttonSp = button.textSize / TypedValue.applyDimension(TypedValue.COMPLEX_UNIT_SP, 1f, metrics)
            assertTrue("$label is $buttonSp sp", buttonSp >= 16f)
            val ratio = contrast(button)
            // 7:1 is WCAG's enhanced level, meant for exactly this: text read in poor conditions.
            assertTrue("$label's text against its background is $ratio:1", ratio >= 7.0)
        }
        shell.tap("不合格")
        val ratio = contrast(shell.button("不合格"))
        assertTrue("the chosen answer's text against its background is $ratio:1", ratio >= 7.0)
    }

    @Test
    fun `the on-site post is asked at the start and can be changed until the record is issued`() {
        offlineDevice()
        val shell = Shell()
        shell.await(FACTORY_NAME)
        shell.tapRow(FACTORY_NAME)
        shell.await("工贸企业安全生产执法检查表")
        shell.type("如 李娜:37030002:2030-12-31", LI)
        shell.type("如 安全科长", "安全科长")
        shell.tap("开始检查")
        shell.await("第 1/91 项")
        val recordId = offMain { appStore().records() }.single().id
        assertEquals("安全科长", offMain { appStore().record(recordId) }.onSitePost)

        shell.back()
        shell.await("选择被检查单位")
        shell.tap("检查记录")
        shell.await("草稿")
        shell.tapRow(FACTORY_NAME)
        shell.await("隐患与提交")
        shell.tap("文书")
        shell.await("企业现场负责人职务")
        assertEquals("安全科长", shell.field("如 安全科长").text.toString())
        shell.type("如 安全科长", "生产副厂长")
        shell.screenshot("13-on-site-post")
        shell.tap("保存职务")
        shell.awaitThat("the changed post saved") { offMain { appStore().record(recordId) }.onSitePost == "生产副厂长" }
        shell.awaitNotBusy()
        assertEquals("生产副厂长", shell.field("如 安全科长").text.toString())
    }

    @Test
    fun `the records list, drawn at both sizes`() {
        offlineDevice().also { store -> offMain { store.startInspection(FACTORY, "trade-enforcement", listOf(LI), "一号车间", null) } }
        val shell = Shell()
        shell.await(FACTORY_NAME)
        shell.tap("检查记录")
        shell.await("草稿")
        shell.screenshot("12-records")
    }

    /**
     * The contrast ratio (WCAG 2) between a button's background, its most common colour as
     * drawn, and its text, the drawn colour farthest from it.
     */
    private fun contrast(view: View): Double {
        val bitmap = Bitmap.createBitmap(view.width, view.height, Bitmap.Config.ARGB_8888)
        view.draw(Canvas(bitmap))
        val pixels = IntArray(bitmap.width * bitmap.height)
        bitmap.getPixels(pixels, 0, bitmap.width, 0, 0, bitmap.width, bitmap.height)
        val opaque = pixels.filter { Color.alpha(it) == 255 }
        val background = opaque.groupingBy { it }.eachCount().maxBy { it.value }.key
        val backgroundLum = luminance(background)
        return opaque.maxOf { ratio(luminance(it), backgroundLum) }
    }

    private fun luminance(color: Int): Double {
        fun channel(value: Int): Double {
            val c = value / 255.0
            return if (c <= 0.03928) c / 12.92 else ((c + 0.055) / 1.055).pow(2.4)
        }
        return 0.2126 * channel(Color.red(color)) + 0.7152 * channel(Color.green(color)) + 0.0722 * channel(Color.blue(color))
    }

    private fun ratio(a: Double, b: Double): Double = (max(a, b) + 0.05) / (min(a, b) + 0.05)
}
