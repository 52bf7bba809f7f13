"""The study's Keras network (appendix of ../shared/docs/study-report.txt) for Keras 3 / TensorFlow 2.21.

The layer classes are the study's: EncoderBlock, DecoderBlock and AttentionGate subclass keras Layer, build
their sub-layers in __init__ and compose them in call; the model names its layers Encoder1..4, Encoding,
Attention1..4, Decoder1..4 and ends in a plain Conv2D. Two changes, both forced by Keras 3: the sub-layers that
the study created inside call (Add, Multiply) are created once in __init__ (Keras 3 refuses new layers inside
call of a built layer), and `super().__init__(**kwargs)` instead of super(Class, self) (same meaning).
Registered as serializable so `.keras` archives and `.h5` files load back with keras.models.load_model.
"""
import keras
from keras.layers import Add, BatchNormalization, Conv2D, Dropout, Layer, MaxPool2D, Multiply, UpSampling2D, concatenate


@keras.saving.register_keras_serializable(package='study')
class EncoderBlock(Layer):
    def __init__(self, filters, rate, pooling=True, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.rate = rate
        self.pooling = pooling
        self.c1 = Conv2D(filters, kernel_size=3, strides=1, padding='same', activation='relu', kernel_initializer='he_normal')
        self.drop = Dropout(rate)
        self.c2 = Conv2D(filters, kernel_size=3, strides=1, padding='same', activation='relu', kernel_initializer='he_normal')
        self.pool = MaxPool2D()

    def call(self, X):
        x = self.c1(X)
        x = self.drop(x)
        x = self.c2(x)
        if self.pooling:
            y = self.pool(x)
            return y, x
        return x

    def get_config(self):
        return {**super().get_config(), 'filters': self.filters, 'rate': self.rate, 'pooling': self.pooling}


@keras.saving.register_keras_serializable(package='study')
class DecoderBlock(Layer):
    def __init__(self, filters, rate, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.rate = rate
        self.up = UpSampling2D()
        self.net = EncoderBlock(filters, rate, pooling=False)

    def call(self, X):
        X, skip_X = X
        x = self.up(X)
        c_ = concatenate([x, skip_X])
        return self.net(c_)

    def get_config(self):
        return {**super().get_config(), 'filters': self.filters, 'rate': self.rate}


@keras.saving.register_keras_serializable(package='study')
class AttentionGate(Layer):
    def __init__(self, filters, bn, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.bn = bn
        self.normal = Conv2D(filters, kernel_size=3, padding='same', activation='relu', kernel_initializer='he_normal')
        self.down = Conv2D(filters, kernel_size=3, strides=2, padding='same', activation='relu', kernel_initializer='he_normal')
        self.learn = Conv2D(1, kernel_size=1, padding='same', activation='sigmoid')
        self.resample = UpSampling2D()
        self.BN = BatchNormalization()
        self.add = Add()
        self.multiply = Multiply()

    def call(self, X):
        X, skip_X = X
        x = self.normal(X)
        skip = self.down(skip_X)
        x = self.add([x, skip])
        x = self.learn(x)
        x = self.resample(x)
        f = self.multiply([x, skip_X])
        if self.bn:
            return self.BN(f)
        return f

    def get_config(self):
        return {**super().get_config(), 'filters': self.filters, 'bn': self.bn}


def attention_unet(size, channels, f):
    """The study's graph with base filters f (the study: 32) on size x size x channels inputs."""
    input_layer = keras.Input(shape=(size, size, channels))
    p1, c1 = EncoderBlock(f, 0.1, name='Encoder1')(input_layer)
    p2, c2 = EncoderBlock(2 * f, 0.1, name='Encoder2')(p1)
    p3, c3 = EncoderBlock(4 * f, 0.2, name='Encoder3')(p2)
    p4, c4 = EncoderBlock(8 * f, 0.2, name='Encoder4')(p3)
    encoding = EncoderBlock(16 * f, 0.3, pooling=False, name='Encoding')(p4)
    a1 = AttentionGate(8 * f, bn=True, name='Attention1')([encoding, c4])
    d1 = DecoderBlock(8 * f, 0.2, name='Decoder1')([encoding, a1])
    a2 = AttentionGate(4 * f, bn=True, name='Attention2')([d1, c3])
    d2 = DecoderBlock(4 * f, 0.2, name='Decoder2')([d1, a2])
    a3 = AttentionGate(2 * f, bn=True, name='Attention3')([d2, c2])
    d3 = DecoderBlock(2 * f, 0.1, name='Decoder3')([d2, a3])
    a4 = AttentionGate(f, bn=True, name='Attention4')([d3, c1])
    d4 = DecoderBlock(f, 0.1, name='Decoder4')([d3, a4])
    output_layer = Conv2D(1, kernel_size=1, activation='sigmoid', padding='same')(d4)
    return keras.Model(inputs=[input_layer], outputs=[output_layer])
