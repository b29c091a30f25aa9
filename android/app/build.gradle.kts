import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.application") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.4.21"
}

val bindingsDir = file(providers.gradleProperty("anjian.bindingsDir").getOrElse("../../target/bindings/kotlin"))
val hostLibDir = file(providers.gradleProperty("anjian.hostLibDir").getOrElse("../../target/debug"))
val repoDir = file("../..")

android {
    namespace = "app.anjian"
    compileSdk = 34

    defaultConfig {
        applicationId = "app.anjian"
        minSdk = 26
        targetSdk = 34
        versionCode = 1
        versionName = "0.1.0"
        // The ABIs cargo-ndk builds libanjian_ffi.so for (see README.md).
        ndk {
            abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64")
        }
    }

    sourceSets {
        getByName("main") {
            // The generated UniFFI bindings are built, never committed: compiled from target/.
            java.srcDirs("src/main/kotlin", bindingsDir)
            jniLibs.srcDirs("src/main/jniLibs")
        }
        getByName("test") {
            java.srcDirs("src/test/kotlin")
        }
    }

    buildTypes {
        release {
            // JNA and the generated bindings are reached by reflection and by name from native
            // code; shrinking would need keep rules for both.
            isMinifyEnabled = false
        }
    }

    testOptions {
        // Robolectric reads the merged manifest and compiled resources AGP provides.
        unitTests.isIncludeAndroidResources = true
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    packaging {
        jniLibs {
            // Stored uncompressed and loaded in place from the APK.
            useLegacyPackaging = false
        }
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

dependencies {
    // The AAR carries libjnidispatch.so for every Android ABI.
    implementation("net.java.dev.jna:jna:5.19.1@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.11.0")

    // JVM unit tests run on the build machine: the JAR carries the desktop libjnidispatch.
    testImplementation("net.java.dev.jna:jna:5.19.1@jar")
    testImplementation("org.jetbrains.kotlinx:kotlinx-coroutines-core-jvm:1.11.0")
    testImplementation(platform("org.junit:junit-bom:5.14.4"))
    testImplementation("org.junit.jupiter:junit-jupiter")
    testRuntimeOnly("org.junit.platform:junit-platform-launcher")
    // The screens under Robolectric (src/test/kotlin/app/anjian/shell), a JUnit 4 runner.
    testImplementation("org.robolectric:robolectric:4.17")
    testImplementation("junit:junit:4.13.2")
    testRuntimeOnly("org.junit.vintage:junit-vintage-engine")
}

tasks.withType<Test>().configureEach {
    useJUnitPlatform()
    // StoreFlowTest loads the host-built libanjian_ffi.so and reads the repository's demo data.
    systemProperty("jna.library.path", hostLibDir.absolutePath)
    systemProperty("anjian.repo", repoDir.absolutePath)
    // The Robolectric tests start the server, compare printing with the CLI, and draw screenshots.
    systemProperty("anjian.server", File(hostLibDir, "anjian-server").absolutePath)
    systemProperty("anjian.cli", File(hostLibDir, "anjian").absolutePath)
    systemProperty("anjian.screenshots", layout.buildDirectory.dir("screenshots").get().asFile.absolutePath)
}
