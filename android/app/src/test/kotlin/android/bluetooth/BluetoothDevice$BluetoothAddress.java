package android.bluetooth;

/**
 * Stands in for the class Android 16 (API 36) added as BluetoothDevice.BluetoothAddress.
 *
 * Robolectric 4.17's ShadowBluetoothDevice has a method taking it; finding the shadow's
 * methods loads every type they name, and the framework Robolectric runs here (API 35, the
 * newest it runs on Java 17) has no such class. Under Gradle the compile SDK's android.jar
 * supplies it. No test calls that method: this only lets the shadow's class be read.
 */
public final class BluetoothDevice$BluetoothAddress {
    private BluetoothDevice$BluetoothAddress() {}
}
